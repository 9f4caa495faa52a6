/*
 * hostscope-monitor: one per container, like podman's conmon. Small and native: no Node process
 * lives on per container.
 *
 *   hostscope-monitor DIR -- RUNTIME-ARGV...
 *
 * The caller (hostscope run) spawns it and waits for it; it forks once and the first process exits
 * as soon as the second has written monitor.pid (so its parent reaps it and finds it), the second one setsid()s, becomes PR_SET_CHILD_SUBREAPER (the
 * container's init is reparented to it should the runtime exit first), runs RUNTIME-ARGV with
 * stdin /dev/null and stdout/stderr pipes, and writes:
 *   DIR/monitor.pid  its own pid (written before the runtime starts)
 *   DIR/ctr.log      docker json-file lines {"log":"…\n","stream":"stdout","time":"RFC3339Nano"}
 *   DIR/exit         {"exitCode":N,"signal":S|null,"finishedAt":"RFC3339Nano"} (tmp + rename) once
 *                    the runtime has exited and its pipes are closed
 * then reaps every child left and exits. A line longer than 16 KiB is cut into several records
 * (docker does the same); the last line without a newline is written without one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384

static int log_fd = -1;

static void rfc3339nano(char *out, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, n, "%s.%09ldZ", base, ts.tv_nsec);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* one JSON record: the bytes escaped as JSON strings (bytes >= 0x80 passed through; invalid UTF-8 is the reader's to replace) */
static void log_record(const char *stream, const char *p, size_t n) {
  static char buf[LINE_MAX_BYTES * 6 + 256];
  size_t o = 0;
  o += (size_t)snprintf(buf + o, sizeof buf - o, "{\"log\":\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c == '\n') {
      buf[o++] = '\\';
      buf[o++] = 'n';
    } else if (c == '\t') {
      buf[o++] = '\\';
      buf[o++] = 't';
    } else if (c == '\r') {
      buf[o++] = '\\';
      buf[o++] = 'r';
    } else if (c < 0x20 || c == 0x7f) {
      o += (size_t)snprintf(buf + o, sizeof buf - o, "\\u%04x", c);
    } else {
      buf[o++] = (char)c;
    }
  }
  char t[64];
  rfc3339nano(t, sizeof t);
  o += (size_t)snprintf(buf + o, sizeof buf - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, t);
  write_all(log_fd, buf, o);
}

struct stream {
  int fd;
  const char *name;
  char buf[LINE_MAX_BYTES];
  size_t len;
};

static void drain(struct stream *s, int eof) {
  size_t start = 0;
  for (size_t i = 0; i < s->len; i++) {
    if (s->buf[i] == '\n') {
      log_record(s->name, s->buf + start, i + 1 - start);
      start = i + 1;
    }
  }
  if (start > 0) {
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
  }
  if ((s->len == sizeof s->buf || eof) && s->len > 0) {
    log_record(s->name, s->buf, s->len);
    s->len = 0;
  }
}

static int write_file_atomic(const char *dir, const char *name, const char *text) {
  char tmp[4096], dst[4096];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return -1;
  if (write_all(fd, text, strlen(text)) < 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return rename(tmp, dst);
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: hostscope-monitor DIR -- RUNTIME-ARGV...\n");
    return 1;
  }
  const char *dir = argv[1];
  char **rt = argv + 3;
  if (strlen(dir) > 3000) {
    fprintf(stderr, "hostscope-monitor: state dir path too long\n");
    return 1;
  }

  /* the first process exits once the monitor has written monitor.pid (a byte on `ready`): its
     parent (hostscope) reaps it and finds the monitor's files there; the monitor lives on */
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) {
    perror("hostscope-monitor: pipe");
    return 1;
  }
  pid_t p = fork();
  if (p < 0) {
    perror("hostscope-monitor: fork");
    return 1;
  }
  if (p > 0) {
    close(ready[1]);
    char b;
    ssize_t r;
    do r = read(ready[0], &b, 1);
    while (r < 0 && errno == EINTR);
    return r == 1 ? 0 : 1;
  }
  close(ready[0]);

  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);

  char path[4096];
  snprintf(path, sizeof path, "%s/ctr.log", dir);
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (log_fd < 0 || devnull < 0) _exit(1);

  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) _exit(1);

  char pidtext[32];
  snprintf(pidtext, sizeof pidtext, "%d\n", (int)getpid());
  if (write_file_atomic(dir, "monitor.pid", pidtext) < 0) _exit(1);
  if (write(ready[1], "1", 1) != 1) _exit(1);
  close(ready[1]);

  pid_t rtpid = fork();
  if (rtpid < 0) _exit(1);
  if (rtpid == 0) {
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    signal(SIGPIPE, SIG_DFL);
    execvp(rt[0], rt);
    dprintf(2, "hostscope-monitor: cannot run %s: %s\n", rt[0], strerror(errno));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  /* our own stdio: nothing to say to whoever started us */
  dup2(devnull, 0);
  dup2(devnull, 1);
  dup2(devnull, 2);

  static struct stream s[2];
  s[0].fd = out[0];
  s[0].name = "stdout";
  s[1].fd = err[0];
  s[1].name = "stderr";
  int open_n = 2;
  while (open_n > 0) {
    struct pollfd pf[2];
    int n = 0;
    for (int i = 0; i < 2; i++)
      if (s[i].fd >= 0) {
        pf[n].fd = s[i].fd;
        pf[n].events = POLLIN;
        pf[n].revents = 0;
        n++;
      }
    if (poll(pf, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < n; k++) {
      if (!pf[k].revents) continue;
      struct stream *st = pf[k].fd == s[0].fd ? &s[0] : &s[1];
      ssize_t r = read(st->fd, st->buf + st->len, sizeof st->buf - st->len);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        drain(st, 1);
        close(st->fd);
        st->fd = -1;
        open_n--;
        continue;
      }
      st->len += (size_t)r;
      drain(st, 0);
    }
  }

  int status = 0;
  for (;;) {
    pid_t w = waitpid(rtpid, &status, 0);
    if (w == rtpid) break;
    if (w < 0 && errno != EINTR) break;
  }
  char t[64], text[256];
  rfc3339nano(t, sizeof t);
  if (WIFSIGNALED(status))
    snprintf(text, sizeof text, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", 128 + WTERMSIG(status), WTERMSIG(status), t);
  else
    snprintf(text, sizeof text, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n", WEXITSTATUS(status), t);
  /* every other child (an init reparented to us): reaped, never left to pid 1 */
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
  }
  write_file_atomic(dir, "exit", text);
  return 0;
}
