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
	HS_OP_MAX
};

/* step flags */
#define HS_F_IGNORE_ERROR 1 /* a failure is remembered (for conditions) but not fatal */

/* an fd argument at or below this refers to register (HS_REG_BASE - fd) */
#define HS_REG_BASE (-1000)
#define HS_NREGS 8

struct hs_step {
	int op;
	int flags;
	int cond_step; /* -1, or run only if step cond_step ... */
	int cond_ok;   /* ... succeeded (1) or failed (0); a skipped step counts as failed */
	int64_t a[4];
	const char *s[4];
	char *const *argv;
	char *const *envp;
	const gid_t *gids;
	size_t ngids;
};

/* messages on the report pipe */
enum hs_msg_kind { HS_MSG_PID = 1, HS_MSG_ERROR = 2, HS_MSG_WAITING = 3 };
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

struct hs_report {
	pid_t forked[4]; /* pids announced by HS_FORK steps, in order */
	int nforked;
	int failed_step; /* -1 when every step ran and the exec happened */
	int err;
	int waiting;     /* the child announced it waits for the parent (read stopped there) */
	int eof;         /* every writer is gone: exec'd or exited (the fd is closed) */
};

/* steps.c: runs in the child; never returns */
void hs_run_steps(const struct hs_step *steps, int n, int report_fd, int sync_fd, int fail_at) __attribute__((noreturn));
const char *hs_op_name(int op);

/* proc.c: the parent side */
int hs_spawn(const struct hs_step *steps, int n, int fail_at, struct hs_spawned *out);
int hs_release(int sync_fd);
/* read messages until EOF, or (until_waiting) until the child says it waits for the parent;
 * fills *out cumulatively, so call it again with the same struct to go on */
int hs_read_report(int report_fd, int until_waiting, struct hs_report *out);
void hs_report_init(struct hs_report *out);
int hs_pidfd_open(pid_t pid);
int hs_pidfd_send_signal(int pidfd, int sig);
/* reap: *code = exit code, or *sig = terminating signal; blocking unless nohang (then -EAGAIN) */
int hs_wait_pidfd(int pidfd, int nohang, int *code, int *sig);
/* NS_GET_USERNS / NS_GET_PARENT (return a new fd), NS_GET_NSTYPE, NS_GET_OWNER_UID (return a value) */
int64_t hs_ns_ioctl(int fd, int op);

#endif
