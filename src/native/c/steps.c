/*
 * The child side: run the steps, then execve. Only system calls here: this process was forked
 * from a multithreaded one, so the heap, stdio and every lock are off limits.
 */
#define _GNU_SOURCE
#include "hs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/utsname.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct hs_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};

static int regs[HS_NREGS];
/* the runner's own pipes: close_range steps leave them open */
static int own_report = -1, own_sync = -1;

static int fd_arg(int64_t v)
{
	if (v <= HS_REG_BASE && v > HS_REG_BASE - HS_NREGS)
		return regs[HS_REG_BASE - v];
	return (int)v;
}

/* a system call's result as 0 or -errno (dup2, setsid, prctl return values on success) */
static int neg(int r)
{
	return r < 0 ? -errno : 0;
}

static int report(int fd, int kind, int step, int err, int pid)
{
	struct hs_msg m = { .kind = kind, .step = step, .err = err, .pid = pid };
	ssize_t w;
	do
		w = write(fd, &m, sizeof(m));
	while (w < 0 && errno == EINTR);
	return w == (ssize_t)sizeof(m) ? 0 : w < 0 ? -errno : -EIO;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int do_write_pid(int fd)
{
	char buf[16];
	int i = (int)sizeof(buf);
	unsigned v = (unsigned)getpid();
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	return write_all(fd, buf + i, sizeof(buf) - (size_t)i);
}

static int do_write_file(const char *path, const unsigned char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r;
	if (fd < 0)
		return -errno;
	r = write_all(fd, (const char *)data, len);
	close(fd);
	return r;
}

/* "/proc/self/fd/N" in buf (no stdio in this child) */
static const char *fd_path(char *buf, size_t size, int fd)
{
	static const char pre[] = "/proc/self/fd/";
	char digits[16];
	int n = 0;
	unsigned v = (unsigned)fd;
	if (fd < 0 || size < sizeof(pre) + sizeof(digits))
		return NULL;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(buf, pre, sizeof(pre) - 1);
	for (int i = 0; i < n; i++)
		buf[sizeof(pre) - 1 + i] = digits[n - 1 - i];
	buf[sizeof(pre) - 1 + n] = '\0';
	return buf;
}

static int set_reg(int64_t reg, int fd)
{
	if (reg < 0 || reg >= HS_NREGS) {
		close(fd);
		return -EINVAL;
	}
	if (regs[reg] >= 0 && regs[reg] != fd)
		close(regs[reg]);
	regs[reg] = fd;
	return 0;
}

static int do_open(const struct hs_step *s)
{
	int flags = (int)s->a[0] | (s->a[5] ? 0 : O_CLOEXEC);
	int dirfd = s->a[3] ? fd_arg(s->a[3]) : AT_FDCWD;
	int fd;
	if (s->a[4]) {
		struct hs_open_how how = { .flags = (uint64_t)(unsigned)flags, .mode = (uint64_t)s->a[2], .resolve = (uint64_t)s->a[4] };
		fd = (int)syscall(SYS_openat2, dirfd, s->s[0], &how, sizeof(how));
	} else
		fd = openat(dirfd, s->s[0], flags, (mode_t)s->a[2]);
	if (fd < 0)
		return -errno;
	return set_reg(s->a[1], fd);
}

static int do_mkdir(const char *path, mode_t mode, int parents)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;
	if (!parents)
		return neg(mkdir(path, mode));
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = c;
	}
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int do_mount(const struct hs_step *s)
{
	char sb[32], tb[32];
	const char *src = s->s[0], *tgt = s->s[1];
	if (s->a[3] & 1)
		src = fd_path(sb, sizeof(sb), fd_arg(s->a[1]));
	if (s->a[3] & 2)
		tgt = fd_path(tb, sizeof(tb), fd_arg(s->a[2]));
	if (((s->a[3] & 1) && !src) || ((s->a[3] & 2) && !tgt))
		return -EBADF;
	return neg(mount(src, tgt, s->s[2], (unsigned long)s->a[0], s->s[3]));
}

/*
 * close_range(CLOEXEC) refused — a seccomp profile installed earlier that does not list it (the
 * OCI validation suite's default profile), or a kernel before 5.11 — falls back to marking each
 * open fd close-on-exec, as runc's CloseExecFrom does. The fds are listed from /proc/self/fd with
 * getdents64 into a stack buffer (no opendir: no heap after fork).
 */
struct hs_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int cloexec_walk(unsigned first, unsigned last)
{
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	char buf[2048] __attribute__((aligned(8)));
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (n < 0) {
			int e = -errno;
			close(dfd);
			return e;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct hs_dirent64 *d = (struct hs_dirent64 *)(buf + off);
			off += d->reclen;
			unsigned long fd = 0;
			const char *c = d->name;
			if (*c < '0' || *c > '9')
				continue; /* "." and ".." */
			for (; *c >= '0' && *c <= '9' && fd <= UINT_MAX; c++)
				fd = fd * 10 + (unsigned long)(*c - '0');
			if (*c || fd > UINT_MAX || (int)fd == dfd || fd < first || fd > last)
				continue;
			int fl = fcntl((int)fd, F_GETFD);
			if (fl < 0 || (fl & FD_CLOEXEC))
				continue;
			if (fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
				int e = -errno;
				close(dfd);
				return e;
			}
		}
	}
	close(dfd);
	return 0;
}

/* close_range over [first, last] but around the runner's own pipes */
static int do_close_range(unsigned first, unsigned last, unsigned flags)
{
	int skip[2] = { own_report, own_sync };
	if (first > last)
		return -EINVAL;
	if (flags & CLOSE_RANGE_CLOEXEC) {
		/* CLOEXEC leaves the runner's pipes working until exec, where they close anyway */
		if (syscall(SYS_close_range, first, last, flags) == 0)
			return 0;
		if (errno == EPERM || errno == ENOSYS || errno == EINVAL || errno == EACCES)
			return cloexec_walk(first, last);
		return -errno;
	}
	if (skip[0] > skip[1]) {
		int t = skip[0];
		skip[0] = skip[1];
		skip[1] = t;
	}
	for (int i = 0; i < 2 && first <= last; i++) {
		if (skip[i] < 0 || (unsigned)skip[i] < first || (unsigned)skip[i] > last)
			continue;
		if ((unsigned)skip[i] > first && syscall(SYS_close_range, first, (unsigned)skip[i] - 1, flags) < 0)
			return -errno;
		if ((unsigned)skip[i] == UINT_MAX)
			return 0;
		first = (unsigned)skip[i] + 1;
	}
	if (first <= last && syscall(SYS_close_range, first, last, flags) < 0)
		return -errno;
	/* registers closed by this are gone */
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		for (int r = 0; r < HS_NREGS; r++)
			if (regs[r] >= 0 && (unsigned)regs[r] >= first && (unsigned)regs[r] <= last)
				regs[r] = -1;
	return 0;
}

static int do_bounding_set(uint64_t keep)
{
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			return errno == EINVAL ? 0 : -errno; /* past the kernel's last capability */
		if (r == 1 && !(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

static int do_seccomp(const struct hs_step *s)
{
	struct sock_fprog prog = { .len = (unsigned short)(s->blen / sizeof(struct sock_filter)), .filter = (struct sock_filter *)(uintptr_t)s->b };
	if (!s->b || s->blen == 0 || s->blen % sizeof(struct sock_filter) || s->blen / sizeof(struct sock_filter) > 4096)
		return -EINVAL;
	if (s->a[1])
		return neg(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0));
	return neg((int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)s->a[0], &prog));
}

static int do_open_pty(const struct hs_step *s)
{
	int unlock = 0, master, slave, r;
	master = open(s->s[0] ? s->s[0] : "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return -errno;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		r = -errno;
		close(master);
		return r;
	}
	/* the peer of this very master, not a path someone could swap (TIOCGPTPEER, Linux 4.13) */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		r = -errno;
		close(master);
		return r;
	}
	/* process.consoleSize (runc setupConsole: pty.Resize when both are set) */
	if (s->a[2] > 0 && s->a[3] > 0) {
		struct winsize ws = { .ws_row = (unsigned short)s->a[2], .ws_col = (unsigned short)s->a[3] };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0) {
			r = -errno;
			close(slave);
			close(master);
			return r;
		}
	}
	if ((r = set_reg(s->a[0], master)) < 0) {
		close(slave);
		return r;
	}
	return set_reg(s->a[1], slave);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un addr;
	size_t len = strlen(path);
	int fd, r;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (len >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while ((r = connect(fd, (struct sockaddr *)&addr, sizeof(addr))) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int do_send_fd(const struct hs_step *s)
{
	int sock = s->s[0] ? unix_connect(s->s[0]) : fd_arg(s->a[0]);
	int fd = fd_arg(s->a[1]);
	const char *name = s->s[1] && s->s[1][0] ? s->s[1] : "/dev/ptmx";
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t w;
	int r = 0;
	if (sock < 0)
		return sock;
	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		w = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		r = -errno;
	if (s->s[0])
		close(sock);
	return r;
}

static int do_capset(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (uint32_t)eff, .permitted = (uint32_t)prm, .inheritable = (uint32_t)inh },
		{ .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(prm >> 32), .inheritable = (uint32_t)(inh >> 32) },
	};
	return neg((int)syscall(SYS_capset, &h, d));
}

/* raise ambient capabilities: those of `mask`, or every permitted one (nsenter --keep-caps) */
static int do_ambient(uint64_t mask, int all_permitted)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	uint64_t prm;
	int cap;
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	prm = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
	if (all_permitted)
		mask = prm;
	/* an ambient capability must be permitted and inheritable */
	d[0].inheritable |= (uint32_t)mask;
	d[1].inheritable |= (uint32_t)(mask >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	for (cap = 0; cap < 64; cap++) {
		if (!(mask & (1ULL << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

/* the longest "<PATH entry>/<file>" a PATH walk tries */
#define PATH_WALK_MAX 4096

/* envp's PATH (the last one, as runc keeps the last value of a repeated variable), else execvp's default */
static const char *env_path(char *const envp[])
{
	const char *path = NULL;
	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	return path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/*
 * The next candidate of a PATH walk, "<dir>/<file>" in buf (an empty entry is "."; an entry too
 * long for buf is skipped); NULL once the PATH ran out. *p moves on (NULL at the end). No
 * allocation: it runs between fork and exec.
 */
static const char *path_next(const char **p, const char *file, size_t flen, char buf[PATH_WALK_MAX])
{
	while (*p) {
		const char *s = *p;
		const char *end = strchrnul(s, ':');
		size_t dlen = (size_t)(end - s);
		*p = *end ? end + 1 : NULL;
		if (dlen + 1 + flen + 1 > PATH_WALK_MAX)
			continue;
		if (dlen == 0) {
			buf[0] = '.';
			dlen = 1;
		} else
			memcpy(buf, s, dlen);
		buf[dlen] = '/';
		memcpy(buf + dlen + 1, file, flen + 1);
		return buf;
	}
	return NULL;
}

/* what the last lookpath step of this child found when it searched PATH ("" when none did) */
static char looked_up[PATH_WALK_MAX];

/*
 * execvp with an explicit environment and no allocation: PATH from envp, else the default. With
 * `looked` and a path a lookpath step found, that path is exec'd: no second search (runc execs what
 * its LookPath found).
 */
static int do_exec(const char *file, char *const argv[], char *const envp[], int search, int looked)
{
	char buf[PATH_WALK_MAX];
	int seen_eacces = 0;
	if (looked && search && looked_up[0] != '\0') {
		execve(looked_up, argv, envp);
		return -errno;
	}
	if (!search || strchr(file, '/')) {
		execve(file, argv, envp);
		return -errno;
	}
	const char *p = env_path(envp);
	for (const char *cand; (cand = path_next(&p, file, strlen(file), buf));) {
		execve(cand, argv, envp);
		if (errno == EACCES)
			seen_eacces = 1;
		else if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
	}
	return seen_eacces ? -EACCES : -ENOENT;
}

/* an executable file (not a directory) the effective ids may run: 0 or -errno */
static int check_exec(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
		return 0;
	/*
	 * a seccomp profile that refuses faccessat2 (EPERM; docker's before it listed the call) or a
	 * kernel without it (ENOSYS): the mode bits decide, as Go's exec.LookPath (runc's) does
	 */
	if (errno == EPERM || errno == ENOSYS)
		return (st.st_mode & 0111) ? 0 : -EACCES;
	return -errno;
}

/*
 * runc's exec.LookPath before the init parks (standard_init_linux.go): a command that cannot be
 * run is create's error, not a silent exit of the init once start has gone. With a '/' the file's
 * own error; searched, the first runnable one in envp's PATH, else -ENOENT (Go's ErrNotFound).
 */
static int do_lookpath(const char *file, char *const envp[], int search)
{
	char buf[PATH_WALK_MAX];
	looked_up[0] = '\0';
	if (!search || strchr(file, '/'))
		return check_exec(file);
	if (file[0] == '\0')
		return -ENOENT;
	const char *p = env_path(envp);
	for (const char *cand; (cand = path_next(&p, file, strlen(file), buf));)
		if (check_exec(cand) == 0) {
			memcpy(looked_up, cand, strlen(cand) + 1); /* fits: both PATH_WALK_MAX */
			return 0;
		}
	return -ENOENT;
}

/* Node ignores SIGPIPE and blocks some signals: a program must start with the defaults */
static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < 65; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* stdio must survive exec whatever flags Node put on it */
static void clear_cloexec_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && (fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
}

static int run_one(const struct hs_step *s, int report_fd, int sync_fd)
{
	switch (s->op) {
	case HS_SETNS:
		return neg(setns(fd_arg(s->a[0]), s->a[1] ? (int)s->a[1] : (int)s->a[2]));
	case HS_UNSHARE:
		return neg(unshare((int)s->a[0]));
	case HS_WAIT_PARENT: {
		char b;
		ssize_t r;
		/* tell the parent we are here: what it does now (uid maps, cgroups) must see this state */
		int e = report(report_fd, HS_MSG_WAITING, 0, 0, 0);
		if (e < 0)
			return e;
		do
			r = read(sync_fd, &b, 1);
		while (r < 0 && errno == EINTR);
		return r == 1 ? 0 : r == 0 ? -ECANCELED : -errno;
	}
	case HS_FORK: {
		/* the new process waits until this one has reported its pid (as the parent's pid
		 * namespace sees it: getpid() inside a new pid namespace would say 1) and exited, so
		 * that no message of the new process can overtake it */
		int order[2];
		long c;
		char b;
		if (pipe2(order, O_CLOEXEC) < 0)
			return -errno;
		c = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (c < 0) {
			int e = -errno;
			close(order[0]);
			close(order[1]);
			return e;
		}
		if (c > 0) {
			int e = report(report_fd, HS_MSG_PID, 0, 0, (int)c);
			if (e < 0) {
				/* nobody knows the new process: it must not go on */
				kill((pid_t)c, SIGKILL);
				close(order[0]);
				close(order[1]);
				return e;
			}
			_exit(0);
		}
		close(order[1]);
		while (read(order[0], &b, 1) < 0 && errno == EINTR)
			;
		close(order[0]);
		return 0;
	}
	case HS_WRITE_PID:
		return do_write_pid(fd_arg(s->a[0]));
	case HS_WRITE_FILE:
		return do_write_file(s->s[0], s->b, s->blen);
	case HS_WRITE_FD:
		return write_all(fd_arg(s->a[0]), (const char *)s->b, s->blen);
	case HS_WRITE_HOSTNAME: {
		struct utsname u;
		if (uname(&u) != 0)
			return -errno;
		/* the kernel NUL-terminates nodename (at most 64 bytes); the NUL goes too, as the separator */
		return write_all(fd_arg(s->a[0]), u.nodename, strnlen(u.nodename, sizeof(u.nodename) - 1) + 1);
	}
	case HS_SETHOSTNAME:
		return neg(sethostname(s->s[0], strlen(s->s[0])));
	case HS_SETDOMAINNAME:
		return neg(setdomainname(s->s[0], strlen(s->s[0])));
	case HS_MOUNT:
		return do_mount(s);
	case HS_UMOUNT2:
		return neg(umount2(s->s[0], (int)s->a[0]));
	case HS_PIVOT_ROOT:
		return neg((int)syscall(SYS_pivot_root, s->s[0], s->s[1]));
	case HS_CHROOT:
		return neg(chroot(s->s[0]));
	case HS_CHDIR:
		return neg(chdir(s->s[0]));
	case HS_FCHDIR:
		return neg(fchdir(fd_arg(s->a[0])));
	case HS_OPEN:
		return do_open(s);
	case HS_MKNOD:
		return neg(mknod(s->s[0], (mode_t)s->a[0], makedev((unsigned)s->a[1], (unsigned)s->a[2])));
	case HS_SYMLINK:
		return neg(symlink(s->s[0], s->s[1]));
	case HS_MKDIR:
		return do_mkdir(s->s[0], (mode_t)s->a[0], (int)s->a[1]);
	case HS_CHOWN:
		return neg(fchownat(AT_FDCWD, s->s[0], (uid_t)s->a[0], (gid_t)s->a[1], s->a[2] ? AT_SYMLINK_NOFOLLOW : 0));
	case HS_CHMOD:
		return neg(chmod(s->s[0], (mode_t)s->a[0]));
	case HS_UMASK:
		umask((mode_t)s->a[0]);
		return 0;
	case HS_CLOSE_RANGE:
		return do_close_range((unsigned)s->a[0], (unsigned)s->a[1], s->a[2] ? CLOSE_RANGE_CLOEXEC : 0);
	case HS_BOUNDING_SET:
		return do_bounding_set((uint64_t)s->a[0]);
	case HS_SECCOMP:
		return do_seccomp(s);
	case HS_OPEN_PTY:
		return do_open_pty(s);
	case HS_CONNECT: {
		int fd = unix_connect(s->s[0]);
		return fd < 0 ? fd : set_reg(s->a[0], fd);
	}
	case HS_SEND_FD:
		return do_send_fd(s);
	case HS_READY:
		return report(report_fd, HS_MSG_READY, 0, 0, 0);
	case HS_SETGROUPS:
		return neg(setgroups(s->ngids, s->gids));
	case HS_SETRESGID:
		return neg(setresgid((gid_t)s->a[0], (gid_t)s->a[1], (gid_t)s->a[2]));
	case HS_SETRESUID:
		return neg(setresuid((uid_t)s->a[0], (uid_t)s->a[1], (uid_t)s->a[2]));
	case HS_CAPSET:
		return do_capset((uint64_t)s->a[0], (uint64_t)s->a[1], (uint64_t)s->a[2]);
	case HS_AMBIENT_RAISE:
		return do_ambient((uint64_t)s->a[0], (int)s->a[1]);
	case HS_PRCTL:
		return neg(prctl((int)s->a[0], (unsigned long)s->a[1], 0, 0, 0));
	case HS_SETRLIMIT: {
		struct rlimit rl = { .rlim_cur = s->a[1] < 0 ? RLIM_INFINITY : (rlim_t)s->a[1], .rlim_max = s->a[2] < 0 ? RLIM_INFINITY : (rlim_t)s->a[2] };
		return neg(setrlimit((int)s->a[0], &rl));
	}
	case HS_DUP2:
		return neg(dup2(fd_arg(s->a[0]), (int)s->a[1]));
	case HS_SETSID:
		return neg(setsid());
	case HS_TIOCSCTTY:
		return neg(ioctl(fd_arg(s->a[0]), TIOCSCTTY, 0));
	case HS_CLOSE: {
		int fd = fd_arg(s->a[0]);
		for (int r = 0; r < HS_NREGS; r++)
			if (regs[r] == fd)
				regs[r] = -1;
		return neg(close(fd));
	}
	case HS_LOOKPATH:
		return do_lookpath(s->s[0], s->envp, (int)s->a[0]);
	case HS_EXEC:
		reset_signals();
		clear_cloexec_stdio();
		return do_exec(s->s[0], s->argv, s->envp, (int)s->a[0], (int)s->a[1]);
	default:
		return -EINVAL;
	}
}

void hs_run_steps(const struct hs_step *steps, int n, int report_fd, int sync_fd, int fail_at, unsigned char *ok)
{
	/* ok[i]: did step i run and succeed (a skipped step counts as not ok) */
	/* Node's handlers (libuv's, writing to a pipe the parent reads) must not run in this child */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < 65; sig++) {
		struct sigaction cur;
		if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &cur) == 0 && cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)
			sigaction(sig, &dfl, NULL);
	}
	for (int r = 0; r < HS_NREGS; r++)
		regs[r] = -1;
	own_report = report_fd;
	own_sync = sync_fd;
	/* the parent's ends of other runners' pipes, and their pidfds, are not ours to hold */
	hs_close_tracked();
	if (n > HS_MAX_STEPS) {
		report(report_fd, HS_MSG_ERROR, 0, E2BIG, 0);
		_exit(125);
	}
	for (int i = 0; i < n; i++) {
		const struct hs_step *s = &steps[i];
		int r;
		ok[i] = 0;
		if (s->cond_step >= 0 && s->cond_step < i && ok[s->cond_step] != (s->cond_ok ? 1 : 0))
			continue;
		r = i == fail_at ? -EIO : run_one(s, report_fd, sync_fd); /* fail_at: injected failure, for tests */
		if (r == 0) {
			ok[i] = 1;
			continue;
		}
		if (s->flags & HS_F_IGNORE_ERROR)
			continue;
		report(report_fd, HS_MSG_ERROR, i, -r, 0);
		_exit(125);
	}
	/* a list that does not end in exec: the child is done */
	_exit(0);
}

const char *hs_op_name(int op)
{
	static const char *const names[HS_OP_MAX] = {
		[HS_SETNS] = "setns", [HS_UNSHARE] = "unshare", [HS_WAIT_PARENT] = "wait-parent", [HS_FORK] = "fork",
		[HS_WRITE_PID] = "write-pid", [HS_WRITE_FILE] = "write", [HS_SETHOSTNAME] = "sethostname", [HS_MOUNT] = "mount",
		[HS_UMOUNT2] = "umount2", [HS_PIVOT_ROOT] = "pivot_root", [HS_CHROOT] = "chroot", [HS_CHDIR] = "chdir",
		[HS_FCHDIR] = "fchdir", [HS_OPEN] = "open", [HS_SETGROUPS] = "setgroups", [HS_SETRESGID] = "setresgid",
		[HS_SETRESUID] = "setresuid", [HS_CAPSET] = "capset", [HS_AMBIENT_RAISE] = "prctl(PR_CAP_AMBIENT_RAISE)",
		[HS_PRCTL] = "prctl", [HS_SETRLIMIT] = "setrlimit", [HS_DUP2] = "dup2", [HS_SETSID] = "setsid",
		[HS_TIOCSCTTY] = "ioctl(TIOCSCTTY)", [HS_CLOSE] = "close", [HS_EXEC] = "execve", [HS_READY] = "ready",
		[HS_SECCOMP] = "seccomp", [HS_MKNOD] = "mknod", [HS_SYMLINK] = "symlink", [HS_MKDIR] = "mkdir", [HS_CHOWN] = "chown",
		[HS_UMASK] = "umask", [HS_CLOSE_RANGE] = "close_range", [HS_WRITE_FD] = "write", [HS_SETDOMAINNAME] = "setdomainname",
		[HS_BOUNDING_SET] = "prctl(PR_CAPBSET_DROP)", [HS_OPEN_PTY] = "open(ptmx)", [HS_CONNECT] = "connect",
		[HS_SEND_FD] = "sendmsg(SCM_RIGHTS)", [HS_CHMOD] = "chmod", [HS_LOOKPATH] = "lookpath", [HS_WRITE_HOSTNAME] = "uname",
	};
	return op > 0 && op < HS_OP_MAX && names[op] ? names[op] : "?";
}
