/*
 * hostscope-monitor: one per container, like podman's conmon. Small and native: no Node process
 * lives on per container.
 *
 *   hostscope-monitor [-i] [-t ROWSxCOLS] [-k HOOK-ARG]... [-x EXIT-ARG]... DIR ID -- RUNTIME-ARGV...
 *
 * The caller (hostscope run) spawns it and waits for it; it forks once and the first process exits
 * as soon as the second has written monitor.pid (so its parent reaps it and finds it). The second
 * one setsid()s, becomes PR_SET_CHILD_SUBREAPER and drives the runtime in two steps, as conmon
 * drives runc:
 *   RUNTIME create --bundle DIR --pid-file DIR/create.pid ID   the init is made and parked; the
 *                         runtime exits and the init is reparented to us (we are its subreaper)
 *   HOOK... PID           (-k, optional) run with the init's pid once it exists and before it
 *                         starts (the network hook); a failure kills the init
 *   RUNTIME start ID      the init executes the container's process; DIR/init.pid is written then
 *   (the init exits, we reap it)
 *   RUNTIME delete --force ID                                  the runtime's state and cgroup go
 *   EXIT...               (-x, optional) run last, once DIR/exit exists (`hostscope rm ID` for
 *                         `run -d --rm`)
 * The container's stdio is ours: stdin /dev/null, or (-i) a pipe fed from the FIFO DIR/stdin that
 * the front end writes; stdout/stderr pipes, or (-t) the container's own pty (`process.terminal`:
 * the runtime's init opens it in the container's devpts, makes it the controlling terminal of
 * the container's session, and sends the master over --console-socket, runc's recvtty protocol:
 * SCM_RIGHTS on a unix socket we listen on, DIR/console.sock or, for a DIR too long for a socket
 * address, /tmp/hs-console-XXXXXX/console.sock; only the init may hand it over (SO_PEERCRED).
 * We hold the master, size it ROWSxCOLS and proxy it.
 *   DIR/monitor.pid  its own pid (written before the runtime starts)
 *   DIR/ctr.log      docker json-file lines {"log":"…\n","stream":"stdout","time":"RFC3339Nano"}
 *   DIR/init.pid     the container's init, once started
 *   DIR/exit         {"exitCode":N,"signal":S|null,"finishedAt":"RFC3339Nano"} (tmp + rename) once
 *                    the init has exited (or create/start failed: their status, their message in
 *                    the log as stderr)
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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384
#define MAX_ARGS 256

static int log_fd = -1;
static int devnull = -1;

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

/* complete lines become records; with `flush` (a pty: what was typed so far, or EOF) the rest too */
static void drain(struct stream *s, int flush) {
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
  if ((s->len == sizeof s->buf || flush) && s->len > 0) {
    log_record(s->name, s->buf, s->len);
    s->len = 0;
  }
}

/* a pipe read to its end, each line logged as the container's stderr (as drain does) */
static void drain_to_eof(int fd) {
  struct stream st = {.fd = fd, .name = "stderr"};
  for (;;) {
    ssize_t r = read(st.fd, st.buf + st.len, sizeof st.buf - st.len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    st.len += (size_t)r;
    drain(&st, 0);
  }
  drain(&st, 1);
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

static void log_msg(const char *fmt, const char *a, const char *b) {
  char m[1024];
  int n = snprintf(m, sizeof m, fmt, a, b);
  if (n > 0) log_record("stderr", m, (size_t)n < sizeof m ? (size_t)n : sizeof m - 1);
}

/* fork + exec argv with these fds as 0, 1, 2; the pid (or -1) */
static pid_t spawn(char **argv, int in, int out, int err) {
  pid_t p = fork();
  if (p < 0) return -1;
  if (p == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execvp(argv[0], argv);
    dprintf(2, "hostscope-monitor: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  return p;
}

/* the status of `pid`, reaping any other child that ends meanwhile (orphans reparented to us) */
static int wait_for(pid_t pid) {
  int st = 0;
  for (;;) {
    pid_t w = waitpid(-1, &st, 0);
    if (w == pid) return st;
    if (w < 0 && errno != EINTR) return -1;
  }
}

/* the console socket: a listening unix socket whose path fits sun_path; its path in `path` */
static int console_listen(const char *dir, char *path, size_t n, char *tmpdir, size_t tn) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  tmpdir[0] = 0;
  snprintf(path, n, "%s/console.sock", dir);
  if (strlen(path) >= sizeof a.sun_path) {
    snprintf(tmpdir, tn, "/tmp/hs-console-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    chmod(tmpdir, 0711); /* a --userns init (host uid 100000) connects */
    snprintf(path, n, "%s/console.sock", tmpdir);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  unlink(path);
  memcpy(a.sun_path, path, strlen(path) + 1);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || chmod(path, 0666) < 0 || listen(fd, 4) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* the master the init sent (SCM_RIGHTS), from a connection whose peer is `init`; -1 if none came */
static int console_receive(int lfd, pid_t init) {
  for (int waited = 0; waited < 100;) {
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      /* create has returned, so the init has sent already; a short grace all the same */
      struct pollfd pf = {.fd = lfd, .events = POLLIN};
      poll(&pf, 1, 50);
      waited++;
      continue;
    }
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.pid != init) {
      close(c);
      continue;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char name[4096];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
    union {
      struct cmsghdr h;
      char b[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    ssize_t r;
    do r = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    close(c);
    struct cmsghdr *h = r >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
    if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int))) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd;
  }
  return -1;
}

static int code_of(int st) {
  if (st < 0) return 255;
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

int main(int argc, char **argv) {
  int interactive = 0, tty = 0;
  unsigned short rows = 24, cols = 80;
  char *hook[MAX_ARGS + 2], *exitcmd[MAX_ARGS + 2];
  int nhook = 0, nexit = 0;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "-i") == 0) interactive = 1;
    else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
      unsigned r = 0, c = 0;
      if (sscanf(argv[++i], "%ux%u", &r, &c) != 2 || r == 0 || c == 0 || r > 10000 || c > 10000) {
        fprintf(stderr, "hostscope-monitor: bad -t size %s (ROWSxCOLS)\n", argv[i]);
        return 1;
      }
      tty = 1;
      rows = (unsigned short)r;
      cols = (unsigned short)c;
    } else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc && nhook < MAX_ARGS) hook[nhook++] = argv[++i];
    else if (strcmp(argv[i], "-x") == 0 && i + 1 < argc && nexit < MAX_ARGS) exitcmd[nexit++] = argv[++i];
    else {
      fprintf(stderr, "hostscope-monitor: unknown or incomplete option %s\n", argv[i]);
      return 1;
    }
  }
  if (argc - i < 4 || strcmp(argv[i + 2], "--") != 0) {
    fprintf(stderr, "usage: hostscope-monitor [-i] [-t ROWSxCOLS] [-k HOOK-ARG]... [-x EXIT-ARG]... DIR ID -- RUNTIME-ARGV...\n");
    return 1;
  }
  const char *dir = argv[i];
  char *id = argv[i + 1];
  char **rt = argv + i + 3;
  int nrt = argc - i - 3;
  if (strlen(dir) > 3000 || nrt > MAX_ARGS) {
    fprintf(stderr, "hostscope-monitor: state dir path or runtime argv too long\n");
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
  /* SIGCHLD through a signalfd in the poll loop: the init's end is seen even while its pipes stay open */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

  char path[4096];
  snprintf(path, sizeof path, "%s/ctr.log", dir);
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (log_fd < 0 || devnull < 0 || sfd < 0) _exit(1);

  /* the container's stdio: [0] its stdin, [1] stdout, [2] stderr (child ends); ours to read/write */
  int c_in = devnull, c_out, c_err;
  int out_r = -1, err_r = -1, master = -1, in_w = -1, fifo = -1;
  char sockpath[4200], socktmp[64];
  int lsock = -1, create_err = -1;
  if (tty) {
    /* the init's pty comes over the console socket; create's own stdio: /dev/null and a pipe
       for its errors (logged as stderr) */
    lsock = console_listen(dir, sockpath, sizeof sockpath, socktmp, sizeof socktmp);
    if (lsock < 0) _exit(1);
    int ce[2];
    if (pipe2(ce, O_CLOEXEC) < 0) _exit(1);
    create_err = ce[0];
    fcntl(create_err, F_SETFL, O_NONBLOCK);
    c_out = c_err = ce[1];
  } else {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) _exit(1);
    c_out = out[1];
    c_err = err[1];
    out_r = out[0];
    err_r = err[0];
  }
  if (interactive) {
    snprintf(path, sizeof path, "%s/stdin", dir);
    if (mkfifo(path, 0600) < 0 && errno != EEXIST) _exit(1);
    /* non-blocking: opened before any writer; POLLHUP only once a writer came and went */
    fifo = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fifo < 0) _exit(1);
    if (!tty) {
      int in[2];
      if (pipe2(in, O_CLOEXEC) < 0) _exit(1);
      c_in = in[0];
      in_w = in[1];
      fcntl(in_w, F_SETFL, O_NONBLOCK);
    }
  }

  char pidtext[32];
  snprintf(pidtext, sizeof pidtext, "%d\n", (int)getpid());
  if (write_file_atomic(dir, "monitor.pid", pidtext) < 0) _exit(1);
  if (write(ready[1], "1", 1) != 1) _exit(1);
  close(ready[1]);
  /* our own stdio: nothing to say to whoever started us */
  dup2(devnull, 0);
  dup2(devnull, 1);
  dup2(devnull, 2);

  char *av[MAX_ARGS + 16];
  char createpid[4096];
  snprintf(createpid, sizeof createpid, "%s/create.pid", dir);
  int n = 0;
  for (int k = 0; k < nrt; k++) av[n++] = rt[k];
  av[n++] = "create";
  av[n++] = "--bundle";
  av[n++] = (char *)dir;
  av[n++] = "--pid-file";
  av[n++] = createpid;
  if (tty) {
    av[n++] = "--console-socket";
    av[n++] = sockpath;
  }
  av[n++] = id;
  av[n] = NULL;

  int exit_code = 0, exit_sig = -1;
  pid_t init = -1;
  /* the runtime's own errors go where the init's stderr goes (the init keeps create's stdio):
     the err pipe, or with a pty create's own err pipe (read once it has exited) */
  pid_t cp = spawn(av, c_in, c_out, c_err);
  int cst = cp < 0 ? -1 : wait_for(cp);
  /* the child ends of the container's stdio are the init's now */
  if (c_in != devnull) close(c_in);
  close(c_out);
  if (!tty) close(c_err);
  if (create_err >= 0) {
    drain_to_eof(create_err);
    close(create_err);
  }

  if (cst < 0 || code_of(cst) != 0) {
    exit_code = code_of(cst);
    if (exit_code == 0) exit_code = 255;
  } else {
    char b[64] = {0};
    int fd = open(createpid, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t r = read(fd, b, sizeof b - 1);
      (void)r;
      close(fd);
    }
    init = (pid_t)atoi(b);
    if (init <= 1) {
      log_msg("hostscope-monitor: the runtime wrote no init pid to %s%s\n", createpid, "");
      exit_code = 255;
      init = -1;
    }
  }
  if (tty) {
    if (init > 0) {
      master = console_receive(lsock, init);
      if (master < 0) {
        log_msg("hostscope-monitor: no pty master came over the console socket %s%s\n", sockpath, "");
        exit_code = 255;
        kill(init, SIGKILL);
        wait_for(init);
        init = -1;
      } else {
        struct winsize ws = {.ws_row = rows, .ws_col = cols};
        ioctl(master, TIOCSWINSZ, &ws);
        if (interactive) in_w = master;
      }
    }
    close(lsock);
    unlink(sockpath);
    if (socktmp[0]) rmdir(socktmp);
  }

  /* the hook (network) with the init's pid, before it starts */
  if (init > 0 && nhook > 0) {
    char pidarg[32];
    snprintf(pidarg, sizeof pidarg, "%d", (int)init);
    for (int k = 0; k < nhook; k++) av[k] = hook[k];
    av[nhook] = pidarg;
    av[nhook + 1] = NULL;
    int herr[2];
    if (pipe2(herr, O_CLOEXEC) < 0) _exit(1);
    pid_t hp = spawn(av, devnull, devnull, herr[1]);
    close(herr[1]);
    drain_to_eof(herr[0]);
    close(herr[0]);
    int hst = hp < 0 ? -1 : wait_for(hp);
    if (code_of(hst) != 0) {
      exit_code = code_of(hst) ? code_of(hst) : 255;
      kill(init, SIGKILL);
      wait_for(init);
      init = -1;
    }
  }

  /* start */
  if (init > 0) {
    n = 0;
    for (int k = 0; k < nrt; k++) av[n++] = rt[k];
    av[n++] = "start";
    av[n++] = id;
    av[n] = NULL;
    int serr[2];
    if (pipe2(serr, O_CLOEXEC) < 0) _exit(1);
    pid_t sp = spawn(av, devnull, devnull, serr[1]);
    close(serr[1]);
    struct stream ss = {.fd = serr[0], .name = "stderr"};
    for (;;) {
      ssize_t r = read(ss.fd, ss.buf + ss.len, sizeof ss.buf - ss.len);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      ss.len += (size_t)r;
      drain(&ss, 0);
    }
    drain(&ss, 1);
    close(serr[0]);
    /* the init may end (and be reaped here) before start does: keep its status */
    int sst = -1, ist = -1, got_init = 0;
    for (;;) {
      int st;
      pid_t w = waitpid(-1, &st, 0);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) break;
      if (w == init) {
        ist = st;
        got_init = 1;
      }
      if (w == sp) {
        sst = st;
        break;
      }
    }
    if (code_of(sst) != 0) {
      exit_code = code_of(sst) ? code_of(sst) : 255;
      if (!got_init) {
        kill(init, SIGKILL);
        wait_for(init);
      }
      init = -1;
    } else {
      char t[32];
      snprintf(t, sizeof t, "%d\n", (int)init);
      write_file_atomic(dir, "init.pid", t);
      if (got_init) {
        exit_code = code_of(ist);
        exit_sig = WIFSIGNALED(ist) ? WTERMSIG(ist) : -1;
        init = 0; /* ran and ended already */
      }
    }
  }

  /* the loop: log the output, feed stdin, until the init has ended */
  static struct stream s[2];
  s[0].fd = tty ? master : out_r;
  s[0].name = "stdout";
  s[1].fd = tty ? -1 : err_r;
  s[1].name = "stderr";
  static char inbuf[65536];
  size_t inlen = 0, inoff = 0;
  int running = init > 0;
  while (running) {
    struct pollfd pf[5];
    int np = 0, ix_s[2] = {-1, -1}, ix_fifo = -1, ix_inw = -1, ix_sig;
    for (int k = 0; k < 2; k++)
      if (s[k].fd >= 0) {
        pf[np] = (struct pollfd){.fd = s[k].fd, .events = POLLIN};
        ix_s[k] = np++;
      }
    if (fifo >= 0 && inlen == 0) {
      pf[np] = (struct pollfd){.fd = fifo, .events = POLLIN};
      ix_fifo = np++;
    }
    if (in_w >= 0 && inlen > 0) {
      pf[np] = (struct pollfd){.fd = in_w, .events = POLLOUT};
      ix_inw = np++;
    }
    pf[np] = (struct pollfd){.fd = sfd, .events = POLLIN};
    ix_sig = np++;
    if (poll(pf, (nfds_t)np, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; k++) {
      if (ix_s[k] < 0 || !pf[ix_s[k]].revents) continue;
      struct stream *st = &s[k];
      ssize_t r = read(st->fd, st->buf + st->len, sizeof st->buf - st->len);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) { /* EOF, or EIO: a pty whose last slave is closed */
        drain(st, 1);
        if (st->fd != master) close(st->fd);
        st->fd = -1;
        continue;
      }
      st->len += (size_t)r;
      drain(st, tty);
    }
    if (ix_fifo >= 0 && pf[ix_fifo].revents) {
      ssize_t r = read(fifo, inbuf, sizeof inbuf);
      if (r > 0) {
        inlen = (size_t)r;
        inoff = 0;
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        /* the writer is gone: the container's stdin ends (a pty: left open, ^D is the user's) */
        close(fifo);
        fifo = -1;
        if (!tty && in_w >= 0) close(in_w), in_w = -1;
      }
    }
    if (ix_inw >= 0 && pf[ix_inw].revents) {
      ssize_t w = write(in_w, inbuf + inoff, inlen - inoff);
      if (w > 0) {
        inoff += (size_t)w;
        if (inoff == inlen) inlen = inoff = 0;
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        /* the container closed its stdin: drop what comes */
        inlen = inoff = 0;
        if (!tty) close(in_w), in_w = -1;
        if (fifo >= 0) close(fifo), fifo = -1;
      }
    }
    if (pf[ix_sig].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
      int st;
      pid_t w;
      while ((w = waitpid(-1, &st, WNOHANG)) > 0)
        if (w == init) {
          exit_code = code_of(st);
          exit_sig = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
          running = 0;
        }
    }
  }
  /* what the init (and its namespace) wrote before the end is in the pipes: read it all, never block */
  for (int k = 0; k < 2; k++) {
    if (s[k].fd < 0) continue;
    fcntl(s[k].fd, F_SETFL, O_NONBLOCK);
    for (;;) {
      ssize_t r = read(s[k].fd, s[k].buf + s[k].len, sizeof s[k].buf - s[k].len);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      s[k].len += (size_t)r;
      drain(&s[k], 0);
    }
    drain(&s[k], 1);
  }

  /* the runtime's state and cgroup go (a container that never started too) */
  if (cst >= 0 && code_of(cst) == 0) {
    n = 0;
    for (int k = 0; k < nrt; k++) av[n++] = rt[k];
    av[n++] = "delete";
    av[n++] = "--force";
    av[n++] = id;
    av[n] = NULL;
    pid_t dp = spawn(av, devnull, devnull, devnull);
    if (dp > 0) wait_for(dp);
  }
  /* every other child (processes reparented to us): reaped, never left to pid 1 */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }

  char t[64], text[256];
  rfc3339nano(t, sizeof t);
  if (exit_sig > 0)
    snprintf(text, sizeof text, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", exit_code, exit_sig, t);
  else
    snprintf(text, sizeof text, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n", exit_code, t);
  write_file_atomic(dir, "exit", text);
  if (fifo >= 0) close(fifo);
  if (master >= 0) close(master);
  close(log_fd);

  if (nexit > 0) {
    exitcmd[nexit] = NULL;
    pid_t xp = spawn(exitcmd, devnull, devnull, devnull);
    if (xp > 0) wait_for(xp);
  }
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
  }
  return 0;
}
