/*
 * hostscope native layer: run a flat list of steps in a forked child, ending in execve.
 *
 * The Node process is multithreaded, so it may never setns() into a mount, user or time
 * namespace itself. TypeScript prepares a step list; hs_spawn() forks; the child runs the
 * steps with nothing but system calls (it is the child of a multithreaded process: no malloc,
 * no stdio, no locks) and reports the first failing step and its errno over a close-on-exec
 * pipe. Every function returns 0 or -errno and knows nothing of N-API.
 */
#ifndef HOSTSCOPE_HS_H
#define HOSTSCOPE_HS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum hs_op {
	HS_SETNS = 1,        /* a0 fd (or register), a1 nstype (0 for a pidfd mask in a2), a2 mask  */
	HS_UNSHARE,          /* a0 flags */
	HS_WAIT_PARENT,      /* block until the parent writes a byte on the sync pipe */
	HS_FORK,             /* clone(CLONE_PARENT|SIGCHLD): the child goes on, this process reports the pid and exits */
	HS_WRITE_PID,        /* a0 fd: write our pid in decimal (cgroup.procs) */
	HS_WRITE_FILE,       /* s0 path, s1 data */
	HS_SETHOSTNAME,      /* s0 name */
	HS_MOUNT,            /* s0 source, s1 target, s2 fstype, s3 data, a0 flags */
	HS_UMOUNT2,          /* s0 target, a0 flags */
	HS_PIVOT_ROOT,       /* s0 new root, s1 put old */
	HS_CHROOT,           /* s0 path */
	HS_CHDIR,            /* s0 path */
	HS_FCHDIR,           /* a0 fd (or register) */
	HS_OPEN,             /* s0 path, a0 flags, a1 register to keep the fd in */
	HS_SETGROUPS,        /* gids[ngids] */
	HS_SETRESGID,        /* a0 a1 a2 */
	HS_SETRESUID,        /* a0 a1 a2 */
	HS_CAPSET,           /* a0 effective, a1 permitted, a2 inheritable (64-bit masks) */
	HS_AMBIENT_RAISE,    /* a0 mask: raise these (a1 = 1: raise every permitted capability) */
	HS_PRCTL,            /* a0 option, a1 arg2 */
	HS_SETRLIMIT,        /* a0 resource, a1 soft, a2 hard (-1 = infinity) */
	HS_DUP2,             /* a0 from, a1 to */
	HS_SETSID,
	HS_TIOCSCTTY,        /* a0 fd */
	HS_CLOSE,            /* a0 fd (or register) */
	HS_EXEC,             /* s0 file, argv, envp; a0 = 1: search PATH of envp like execvp */
	HS_READY,            /* report READY: the parent returns its handle, this process goes on */
	HS_SECCOMP,          /* b: struct sock_filter[blen / 8]; a0 SECCOMP_FILTER_FLAG_*, a1 = 1: prctl(PR_SET_SECCOMP) */
	HS_MKNOD,            /* s0 path, a0 mode (with type), a1 major, a2 minor */
	HS_SYMLINK,          /* s0 target, s1 link path */
	HS_MKDIR,            /* s0 path, a0 mode, a1 = 1: parents too, an existing directory is fine */
	HS_CHOWN,            /* s0 path, a0 uid, a1 gid (-1: unchanged), a2 = 1: AT_SYMLINK_NOFOLLOW */
	HS_UMASK,            /* a0 mask */
	HS_CLOSE_RANGE,      /* a0 first, a1 last, a2 = 1: CLOSE_RANGE_CLOEXEC; skips the runner's pipes */
	HS_WRITE_FD,         /* a0 fd (or register), b data */
	HS_SETDOMAINNAME,    /* s0 name */
	HS_BOUNDING_SET,     /* a0 mask to keep: PR_CAPBSET_DROP every other capability the kernel has */
	HS_OPEN_PTY,         /* s0 ptmx path, a0 register for the master, a1 register for the slave, a2 a3 rows, cols (0: unchanged) */
	HS_CONNECT,          /* s0 unix socket path, a0 register */
	HS_SEND_FD,          /* s0 socket path (or NULL: a0 socket fd/register), a1 fd to send, s1 message bytes */
	HS_CHMOD,            /* s0 path, a0 mode */
	HS_LOOKPATH,         /* s0 file, envp; a0 = 1: search PATH of envp. Fails as exec would: ENOENT, EACCES, EISDIR */
	HS_WRITE_HOSTNAME,   /* a0 fd (or register): write uname()'s nodename and a NUL (the uts namespace this child is in) */
	HS_OP_MAX
};

/* step flags */
#define HS_F_IGNORE_ERROR 1 /* a failure is remembered (for conditions) but not fatal */

/* an fd argument at or below this refers to register (HS_REG_BASE - fd) */
#define HS_REG_BASE (-1000)
#define HS_NREGS 64
/* the most steps one list may have (and the size of the ok[] array the parent allocates) */
#define HS_MAX_STEPS 4096

struct hs_step {
	int op;
	int flags;
	int cond_step; /* -1, or run only if step cond_step ... */
	int cond_ok;   /* ... succeeded (1) or failed (0); a skipped step counts as failed */
	int64_t a[6];
	const char *s[4];
	const unsigned char *b; /* a byte buffer: a seccomp program, data to write */
	size_t blen;
	char *const *argv;
	char *const *envp;
	const gid_t *gids;
	size_t ngids;
};

/* messages on the report pipe */
enum hs_msg_kind { HS_MSG_PID = 1, HS_MSG_ERROR = 2, HS_MSG_WAITING = 3, HS_MSG_READY = 4 };
struct hs_msg {
	int32_t kind;
	int32_t step;
	int32_t err; /* positive errno */
	int32_t pid;
};

struct hs_spawned {
	pid_t pid;
	int pidfd;     /* of the forked child */
	int report_fd; /* read end of the report pipe */
	int sync_fd;   /* write end of the parent→child sync pipe */
};

/* steps.c: runs in the child; never returns */
/* ok: n bytes of scratch the parent allocated (did step i succeed) */
void hs_run_steps(const struct hs_step *steps, int n, int report_fd, int sync_fd, int fail_at, unsigned char *ok) __attribute__((noreturn));
const char *hs_op_name(int op);

/* proc.c: the parent side */
int hs_spawn(const struct hs_step *steps, int n, int fail_at, unsigned char *ok, struct hs_spawned *out);
int hs_release(int sync_fd);
/* The parent's ends of every runner's pipes and its pidfds: a child forked later closes them
 * all first, so that it never holds another child's pipes open (and never delays the EOF that
 * child's waitParent step or its parent waits for). Call hs_untrack_fd before closing one. */
int hs_track_fd(int fd);
void hs_untrack_fd(int fd);
void hs_close_tracked(void);
int hs_pidfd_open(pid_t pid);
int hs_pidfd_send_signal(int pidfd, int sig);
/* reap: *code = exit code, or *sig = terminating signal; blocking unless nohang (then -EAGAIN) */
int hs_wait_pidfd(int pidfd, int nohang, int *code, int *sig);
/* NS_GET_USERNS / NS_GET_PARENT (return a new fd), NS_GET_NSTYPE, NS_GET_OWNER_UID (return a value) */
int64_t hs_ns_ioctl(int fd, int op);

#endif
