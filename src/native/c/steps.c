/*
 * The child side: run the steps, then execve. Only system calls here: this process was forked
 * from a multithreaded one, so the heap, stdio and every lock are off limits.
 */
#define _GNU_SOURCE
#include "hs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int regs[HS_NREGS];

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
	return w == (ssize_t)sizeof(m) ? 0 : -EIO;
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

static int do_write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r;
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, strlen(data));
	close(fd);
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

/* execvp with an explicit environment and no allocation: PATH from envp, else the default */
static int do_exec(const char *file, char *const argv[], char *const envp[], int search)
{
	const char *path = NULL;
	char buf[4096];
	int seen_eacces = 0;
	size_t flen = strlen(file);
	if (!search || strchr(file, '/')) {
		execve(file, argv, envp);
		return -errno;
	}
	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		if (dlen + 1 + flen + 1 <= sizeof(buf)) {
			if (dlen == 0) {
				buf[0] = '.';
				dlen = 1;
			} else
				memcpy(buf, p, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			execve(buf, argv, envp);
			if (errno == EACCES)
				seen_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				return -errno;
		}
		if (*end == '\0')
			break;
		p = end;
	}
	return seen_eacces ? -EACCES : -ENOENT;
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
		report(report_fd, HS_MSG_WAITING, 0, 0, 0);
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
			report(report_fd, HS_MSG_PID, 0, 0, (int)c);
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
		return do_write_file(s->s[0], s->s[1]);
	case HS_SETHOSTNAME:
		return neg(sethostname(s->s[0], strlen(s->s[0])));
	case HS_MOUNT:
		return neg(mount(s->s[0], s->s[1], s->s[2], (unsigned long)s->a[0], s->s[3]));
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
	case HS_OPEN: {
		int fd = open(s->s[0], (int)s->a[0] | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (s->a[1] < 0 || s->a[1] >= HS_NREGS) {
			close(fd);
			return -EINVAL;
		}
		regs[s->a[1]] = fd;
		return 0;
	}
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
		return neg(dup2((int)s->a[0], (int)s->a[1]));
	case HS_SETSID:
		return neg(setsid());
	case HS_TIOCSCTTY:
		return neg(ioctl((int)s->a[0], TIOCSCTTY, 0));
	case HS_CLOSE:
		return neg(close(fd_arg(s->a[0])));
	case HS_EXEC:
		reset_signals();
		clear_cloexec_stdio();
		return do_exec(s->s[0], s->argv, s->envp, (int)s->a[0]);
	default:
		return -EINVAL;
	}
}

void hs_run_steps(const struct hs_step *steps, int n, int report_fd, int sync_fd, int fail_at)
{
	/* ok[i]: did step i run and succeed (a skipped step counts as not ok) */
	unsigned char ok[256];
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
	if (n > (int)sizeof(ok)) {
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
		[HS_TIOCSCTTY] = "ioctl(TIOCSCTTY)", [HS_CLOSE] = "close", [HS_EXEC] = "execve",
	};
	return op > 0 && op < HS_OP_MAX && names[op] ? names[op] : "?";
}
