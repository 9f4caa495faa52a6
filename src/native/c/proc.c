/*
 * The parent side: fork the step runner, read its report, wait for it by pidfd, signal it,
 * and the namespace ioctls lsns uses for owner and parent namespaces.
 */
#define _GNU_SOURCE
#include "hs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int hs_pidfd_open(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : (int)fd;
}

int hs_pidfd_send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

/* ---- the parent's runner fds (report read ends, sync write ends, pidfds), closed in every new child */
static int *tracked;
static size_t ntracked, captracked;

int hs_track_fd(int fd)
{
	if (ntracked == captracked) {
		size_t cap = captracked ? captracked * 2 : 64;
		int *p = realloc(tracked, cap * sizeof(int));
		if (!p)
			return -ENOMEM;
		tracked = p;
		captracked = cap;
	}
	tracked[ntracked++] = fd;
	return 0;
}

void hs_untrack_fd(int fd)
{
	for (size_t i = 0; i < ntracked; i++)
		if (tracked[i] == fd) {
			tracked[i] = tracked[--ntracked];
			return;
		}
}

/* in the child (no allocation: reads the parent's array as copied by fork) */
void hs_close_tracked(void)
{
	for (size_t i = 0; i < ntracked; i++)
		close(tracked[i]);
}

int hs_spawn(const struct hs_step *steps, int n, int fail_at, unsigned char *ok, struct hs_spawned *out)
{
	int report[2], sync[2];
	pid_t pid;
	int pidfd;

	if (pipe2(report, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(sync, O_CLOEXEC) < 0) {
		int e = -errno;
		close(report[0]);
		close(report[1]);
		return e;
	}
	pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(report[0]);
		close(report[1]);
		close(sync[0]);
		close(sync[1]);
		return e;
	}
	if (pid == 0) {
		close(report[0]);
		close(sync[1]);
		hs_run_steps(steps, n, report[1], sync[0], fail_at, ok);
	}
	close(report[1]);
	close(sync[0]);
	/* the child is ours and unreaped, so its pid cannot be reused before this */
	pidfd = hs_pidfd_open(pid);
	if (pidfd < 0) {
		int e = pidfd;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(report[0]);
		close(sync[1]);
		return e;
	}
	if (hs_track_fd(pidfd) < 0 || hs_track_fd(report[0]) < 0 || hs_track_fd(sync[1]) < 0) {
		hs_untrack_fd(pidfd);
		hs_untrack_fd(report[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(pidfd);
		close(report[0]);
		close(sync[1]);
		return -ENOMEM;
	}
	out->pid = pid;
	out->pidfd = pidfd;
	out->report_fd = report[0];
	out->sync_fd = sync[1];
	return 0;
}

int hs_release(int sync_fd)
{
	char b = 1;
	ssize_t w;
	do
		w = write(sync_fd, &b, 1);
	while (w < 0 && errno == EINTR);
	int e = w == 1 ? 0 : -errno;
	hs_untrack_fd(sync_fd);
	close(sync_fd);
	/* EPIPE: the child no longer listens (it has no wait step, or exec'd or failed already) */
	return e == -EPIPE ? 0 : e;
}

int hs_wait_pidfd(int pidfd, int nohang, int *code, int *sig)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	for (;;) {
		if (syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | (nohang ? WNOHANG : 0), NULL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		break;
	}
	if (si.si_pid == 0)
		return -EAGAIN;
	*code = -1;
	*sig = 0;
	if (si.si_code == CLD_EXITED)
		*code = si.si_status;
	else
		*sig = si.si_status;
	return 0;
}

int64_t hs_ns_ioctl(int fd, int op)
{
	unsigned long req;
	uid_t uid;
	int r;
	switch (op) {
	case 1:
		req = NS_GET_USERNS;
		break;
	case 2:
		req = NS_GET_PARENT;
		break;
	case 3:
		req = NS_GET_NSTYPE;
		break;
	case 4:
		r = ioctl(fd, NS_GET_OWNER_UID, &uid);
		return r < 0 ? -errno : (int64_t)uid;
	default:
		return -EINVAL;
	}
	r = ioctl(fd, req);
	if (r < 0)
		return -errno;
	if (op != 3)
		fcntl(r, F_SETFD, FD_CLOEXEC);
	return r;
}
