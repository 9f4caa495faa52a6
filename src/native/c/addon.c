/*
 * N-API glue, and nothing else: convert JS arguments to the C structs of hs.h, call, convert
 * results and -errno back (as an Error with .syscall and .errno). All logic lives in steps.c
 * and proc.c.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <termios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hs.h"

#define CHECK(call)                                                                                \
	do {                                                                                       \
		if ((call) != napi_ok) {                                                           \
			napi_throw_error(env, NULL, "hostscope native: N-API call failed: " #call); \
			return NULL;                                                               \
		}                                                                                  \
	} while (0)

static napi_value throw_errno(napi_env env, const char *syscall_name, int err)
{
	napi_value e, msg, sc, no;
	char text[160];
	snprintf(text, sizeof(text), "%s: %s", syscall_name, strerror(err));
	napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
	napi_create_error(env, NULL, msg, &e);
	napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &sc);
	napi_create_int32(env, err, &no);
	napi_set_named_property(env, e, "syscall", sc);
	napi_set_named_property(env, e, "errno", no);
	napi_throw(env, e);
	return NULL;
}

static napi_value int_value(napi_env env, int64_t v)
{
	napi_value out;
	napi_create_int64(env, v, &out);
	return out;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv)
{
	size_t argc = want;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
		napi_throw_type_error(env, NULL, "hostscope native: wrong number of arguments");
		return -1;
	}
	return 0;
}

static int32_t get_i32(napi_env env, napi_value v)
{
	int32_t out = 0;
	napi_get_value_int32(env, v, &out);
	return out;
}

/* the one integer argument of the small wrappers; -1 (with a JS exception pending) when absent */
static int one_i32(napi_env env, napi_callback_info info, int32_t *out)
{
	napi_value argv[1];
	if (get_args(env, info, 1, argv) < 0)
		return -1;
	*out = get_i32(env, argv[0]);
	return 0;
}

/* ---- a small arena: every allocation of one spawn, freed together once the child is forked */
struct arena {
	void **ptrs;
	size_t n, cap;
};

static void *arena_alloc(struct arena *a, size_t size)
{
	void *p;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		void **np = realloc(a->ptrs, cap * sizeof(void *));
		if (!np)
			return NULL;
		a->ptrs = np;
		a->cap = cap;
	}
	p = calloc(1, size ? size : 1);
	if (p)
		a->ptrs[a->n++] = p;
	return p;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
}

static char *get_string(napi_env env, struct arena *a, napi_value v)
{
	size_t len;
	napi_valuetype t;
	char *s;
	bool is_ta = false;
	if (napi_typeof(env, v, &t) != napi_ok)
		return NULL;
	/*
	 * bytes (a Uint8Array): a string that is not UTF-8 (src/native/steps.ts wire(): N-API would
	 * encode its lone surrogates as EF BF BD); copied and NUL-terminated, refused when it holds a NUL
	 */
	if (t == napi_object && napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta) {
		napi_typedarray_type type;
		void *data;
		if (napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array ||
		    memchr(data, 0, len) != NULL)
			return NULL;
		s = arena_alloc(a, len + 1);
		if (s) {
			memcpy(s, data, len);
			s[len] = '\0';
		}
		return s;
	}
	if (t != napi_string)
		return NULL;
	napi_get_value_string_utf8(env, v, NULL, 0, &len);
	s = arena_alloc(a, len + 1);
	if (s)
		napi_get_value_string_utf8(env, v, s, len + 1, &len);
	return s;
}

static char **get_string_array(napi_env env, struct arena *a, napi_value arr)
{
	uint32_t n;
	char **out;
	if (napi_get_array_length(env, arr, &n) != napi_ok)
		return NULL;
	out = arena_alloc(a, (n + 1) * sizeof(char *));
	for (uint32_t i = 0; out && i < n; i++) {
		napi_value el;
		napi_get_element(env, arr, i, &el);
		out[i] = get_string(env, a, el);
		/* an element that is no string, or bytes holding a NUL: malformed, never a shorter argv */
		if (!out[i])
			return NULL;
	}
	if (out)
		out[n] = NULL;
	return out;
}

static int has(napi_env env, napi_value obj, const char *name, napi_value *out)
{
	bool b = false;
	napi_valuetype t;
	napi_has_named_property(env, obj, name, &b);
	if (!b)
		return 0;
	napi_get_named_property(env, obj, name, out);
	napi_typeof(env, *out, &t);
	return t != napi_undefined && t != napi_null;
}

/*
 * A uid_t or gid_t from JS: an integer 0 ... 2^32-2 (bug 16 of issue 6). (uid_t)-1 means
 * "unchanged" to setresuid(2), and anything larger would wrap to a small id (4294967296 -> 0).
 */
static int get_id(napi_env env, napi_value v, uint32_t *out)
{
	napi_valuetype t;
	double d;
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok)
		return -1;
	if (!(d >= 0 && d <= 4294967294.0) || d != (double)(uint32_t)d)
		return -1;
	*out = (uint32_t)d;
	return 0;
}

/* a step: { op, flags, cond: [step, ok], a: [n|bigint...], s: [string|null...], argv, envp, gids }; -2: an id out of range */
static int convert_step(napi_env env, struct arena *ar, napi_value obj, struct hs_step *s)
{
	napi_value v;
	memset(s, 0, sizeof(*s));
	s->cond_step = -1;
	if (!has(env, obj, "op", &v))
		return -1;
	s->op = get_i32(env, v);
	if (has(env, obj, "flags", &v))
		s->flags = get_i32(env, v);
	if (has(env, obj, "cond", &v)) {
		napi_value x;
		napi_get_element(env, v, 0, &x);
		s->cond_step = get_i32(env, x);
		napi_get_element(env, v, 1, &x);
		s->cond_ok = get_i32(env, x);
	}
	if (has(env, obj, "a", &v)) {
		uint32_t n;
		napi_get_array_length(env, v, &n);
		if (n > 6)
			return -1;
		for (uint32_t i = 0; i < n; i++) {
			napi_value x;
			napi_valuetype t;
			napi_get_element(env, v, i, &x);
			napi_typeof(env, x, &t);
			if (t == napi_bigint) {
				uint64_t u;
				bool lossless;
				napi_get_value_bigint_uint64(env, x, &u, &lossless);
				s->a[i] = (int64_t)u;
			} else
				napi_get_value_int64(env, x, &s->a[i]);
		}
		if (s->op == HS_SETRESUID || s->op == HS_SETRESGID) {
			for (uint32_t i = 0; i < 3; i++) {
				napi_value x;
				uint32_t id;
				if (i >= n || napi_get_element(env, v, i, &x) != napi_ok || get_id(env, x, &id) < 0)
					return -2;
				s->a[i] = id;
			}
		}
	}
	if (has(env, obj, "s", &v)) {
		uint32_t n;
		napi_get_array_length(env, v, &n);
		if (n > 4)
			return -1;
		for (uint32_t i = 0; i < n; i++) {
			napi_value x;
			napi_valuetype t;
			napi_get_element(env, v, i, &x);
			s->s[i] = get_string(env, ar, x);
			/* NULL only for null/undefined ("absent"); anything else that is not a string is malformed */
			if (!s->s[i] && (napi_typeof(env, x, &t) != napi_ok || (t != napi_null && t != napi_undefined)))
				return -1;
		}
	}
	if (has(env, obj, "b", &v)) {
		napi_typedarray_type t;
		size_t len, off;
		void *data;
		napi_value ab;
		unsigned char *copy;
		if (napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != napi_uint8_array)
			return -1;
		copy = arena_alloc(ar, len);
		if (!copy)
			return -1;
		if (len)
			memcpy(copy, data, len);
		s->b = copy;
		s->blen = len;
	}
	if (has(env, obj, "argv", &v) && !(s->argv = get_string_array(env, ar, v)))
		return -1;
	if (has(env, obj, "envp", &v) && !(s->envp = get_string_array(env, ar, v)))
		return -1;
	if (has(env, obj, "gids", &v)) {
		uint32_t n;
		gid_t *g;
		napi_get_array_length(env, v, &n);
		g = arena_alloc(ar, (n + 1) * sizeof(gid_t));
		for (uint32_t i = 0; g && i < n; i++) {
			napi_value x;
			uint32_t id;
			napi_get_element(env, v, i, &x);
			if (get_id(env, x, &id) < 0)
				return -2;
			g[i] = (gid_t)id;
		}
		s->gids = g;
		s->ngids = n;
	}
	return 0;
}

/* spawn(steps, failAt) → { pid, pidfd, reportFd, syncFd } */
static napi_value js_spawn(napi_env env, napi_callback_info info)
{
	napi_value argv[2], out;
	uint32_t n;
	struct arena ar = { 0 };
	struct hs_step *steps;
	struct hs_spawned sp;
	int r;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	CHECK(napi_get_array_length(env, argv[0], &n));
	if (n > HS_MAX_STEPS) {
		napi_throw_range_error(env, NULL, "hostscope native: too many steps");
		return NULL;
	}
	steps = arena_alloc(&ar, (n ? n : 1) * sizeof(*steps));
	for (uint32_t i = 0; steps && i < n; i++) {
		napi_value el;
		napi_get_element(env, argv[0], i, &el);
		int c = convert_step(env, &ar, el, &steps[i]);
		if (c < 0) {
			arena_free(&ar);
			if (c == -2)
				napi_throw_range_error(env, NULL, "hostscope native: a uid or gid out of range (0 to 4294967294)");
			else
				napi_throw_type_error(env, NULL, "hostscope native: a step is malformed (no op, too many arguments, or a buffer that is not a Uint8Array)");
			return NULL;
		}
	}
	{
		unsigned char *ok = steps ? arena_alloc(&ar, n ? n : 1) : NULL;
		r = ok ? hs_spawn(steps, (int)n, get_i32(env, argv[1]), ok, &sp) : -ENOMEM;
	}
	arena_free(&ar);
	if (r < 0)
		return throw_errno(env, "fork", -r);
	CHECK(napi_create_object(env, &out));
	napi_set_named_property(env, out, "pid", int_value(env, sp.pid));
	napi_set_named_property(env, out, "pidfd", int_value(env, sp.pidfd));
	napi_set_named_property(env, out, "reportFd", int_value(env, sp.report_fd));
	napi_set_named_property(env, out, "syncFd", int_value(env, sp.sync_fd));
	return out;
}

static napi_value js_release(napi_env env, napi_callback_info info)
{
	int32_t fd;
	int r;
	if (one_i32(env, info, &fd) < 0)
		return NULL;
	r = hs_release(fd);
	return r < 0 ? throw_errno(env, "write", -r) : NULL;
}

static napi_value exit_value(napi_env env, int code, int sig)
{
	napi_value out, nul;
	napi_get_null(env, &nul);
	napi_create_object(env, &out);
	napi_set_named_property(env, out, "code", code >= 0 ? int_value(env, code) : nul);
	napi_set_named_property(env, out, "signal", sig ? int_value(env, sig) : nul);
	return out;
}

/* waitSync(pidfd, nohang) → { code, signal } | null when nohang and still running */
static napi_value js_wait_sync(napi_env env, napi_callback_info info)
{
	napi_value argv[2], nul;
	bool nohang = false;
	int code, sig, r;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	napi_get_value_bool(env, argv[1], &nohang);
	r = hs_wait_pidfd(get_i32(env, argv[0]), nohang, &code, &sig);
	if (r == -EAGAIN) {
		napi_get_null(env, &nul);
		return nul;
	}
	if (r < 0)
		return throw_errno(env, "waitid", -r);
	return exit_value(env, code, sig);
}

/* ---- libuv watches of runner fds: a pidfd (exit) or a report pipe (messages). Both are kept
 * in a list by fd so that setRef(fd, false) can uv_unref one: Node may then exit while it is
 * still armed (runc create returns while the init stays parked). */
enum watch_kind { W_EXIT, W_REPORT };
struct watch {
	uv_poll_t poll;
	napi_env env;
	napi_ref cb;
	napi_async_context ctx;
	int fd;
	enum watch_kind kind;
	size_t have;                     /* bytes of a partial message in buf */
	unsigned char buf[sizeof(struct hs_msg)];
	struct watch *next;
};
static struct watch *watches;

static void watch_closed(uv_handle_t *h)
{
	free(h->data);
}

static void watch_unlink(struct watch *w)
{
	for (struct watch **p = &watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			return;
		}
}

static void watch_call(struct watch *w, size_t argc, napi_value *argv)
{
	napi_value cb, recv, result;
	napi_get_reference_value(w->env, w->cb, &cb);
	napi_get_global(w->env, &recv); /* MakeCallback wants an object receiver */
	if (napi_make_callback(w->env, w->ctx, recv, cb, argc, argv, &result) != napi_ok) {
		/* the callback threw: let Node report it as an uncaught exception */
		bool pending = false;
		napi_value exc;
		napi_is_exception_pending(w->env, &pending);
		if (pending && napi_get_and_clear_last_exception(w->env, &exc) == napi_ok)
			napi_fatal_exception(w->env, exc);
	}
}

/* stop and close the fd: before the last callback, since Node runs the microtasks that callback
 * resolves before napi_make_callback returns (they must see the fd closed) */
static void watch_stop(struct watch *w)
{
	uv_poll_stop(&w->poll);
	watch_unlink(w);
	hs_untrack_fd(w->fd);
	close(w->fd);
	w->fd = -1;
}

/* after the last callback: forget it, free the handle */
static void watch_end(struct watch *w)
{
	napi_delete_reference(w->env, w->cb);
	napi_async_destroy(w->env, w->ctx);
	uv_close((uv_handle_t *)&w->poll, watch_closed);
}

static void exit_fired(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	napi_handle_scope scope;
	napi_value arg;
	int code = -1, sig = 0;
	int r = hs_wait_pidfd(w->fd, 1, &code, &sig);
	(void)status;
	(void)events;
	if (r == -EAGAIN)
		return;
	watch_stop(w);
	napi_open_handle_scope(w->env, &scope);
	arg = r < 0 ? exit_value(w->env, -1, 0) : exit_value(w->env, code, sig);
	watch_call(w, 1, &arg);
	napi_close_handle_scope(w->env, scope);
	watch_end(w);
}

/* cb(kind, step, errno, pid, partial): one call per message; kind 0 = end of the pipe (errno: a
 * read error, partial: bytes of a message cut short), after which the fd is closed */
static void report_call(struct watch *w, int kind, int step, int err, int pid, int partial)
{
	napi_value argv[5];
	argv[0] = int_value(w->env, kind);
	argv[1] = int_value(w->env, step);
	argv[2] = int_value(w->env, err);
	argv[3] = int_value(w->env, pid);
	argv[4] = int_value(w->env, partial);
	watch_call(w, 5, argv);
}

static void report_fired(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	napi_handle_scope scope;
	(void)events;
	napi_open_handle_scope(w->env, &scope);
	for (;;) {
		ssize_t r = read(w->fd, w->buf + w->have, sizeof(w->buf) - w->have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && status == 0)
			break;
		if (r <= 0) {
			int err = r < 0 ? errno : status < 0 ? EIO : 0;
			watch_stop(w);
			report_call(w, 0, -1, err, 0, (int)w->have);
			napi_close_handle_scope(w->env, scope);
			watch_end(w);
			return;
		}
		w->have += (size_t)r;
		if (w->have == sizeof(w->buf)) {
			struct hs_msg m;
			memcpy(&m, w->buf, sizeof(m));
			w->have = 0;
			report_call(w, m.kind, m.step, m.err, m.pid, 0);
		}
	}
	napi_close_handle_scope(w->env, scope);
}

static napi_value watch_start(napi_env env, napi_callback_info info, enum watch_kind kind)
{
	napi_value argv[2], name, resource;
	struct uv_loop_s *loop;
	struct watch *w;
	int ri, rs;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	CHECK(napi_get_uv_event_loop(env, &loop));
	w = calloc(1, sizeof(*w));
	if (!w)
		return throw_errno(env, "malloc", ENOMEM);
	w->env = env;
	w->kind = kind;
	w->fd = get_i32(env, argv[0]);
	if (kind == W_REPORT) {
		int fl = fcntl(w->fd, F_GETFL);
		if (fl < 0 || fcntl(w->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			free(w);
			return throw_errno(env, "fcntl", errno);
		}
	}
	napi_create_reference(env, argv[1], 1, &w->cb);
	napi_create_string_utf8(env, kind == W_EXIT ? "hostscope:watch" : "hostscope:report", NAPI_AUTO_LENGTH, &name);
	napi_create_object(env, &resource);
	if (napi_async_init(env, resource, name, &w->ctx) != napi_ok) {
		napi_delete_reference(env, w->cb);
		free(w);
		return throw_errno(env, "napi_async_init", EINVAL);
	}
	w->poll.data = w;
	ri = uv_poll_init(loop, &w->poll, w->fd);
	rs = ri ? -1 : uv_poll_start(&w->poll, UV_READABLE, kind == W_EXIT ? exit_fired : report_fired);
	if (ri != 0 || rs != 0) {
		napi_delete_reference(env, w->cb);
		napi_async_destroy(env, w->ctx);
		if (ri == 0)
			uv_close((uv_handle_t *)&w->poll, watch_closed);
		else
			free(w);
		return throw_errno(env, "uv_poll", EINVAL);
	}
	w->next = watches;
	watches = w;
	return NULL;
}

/*
 * The env's teardown. A watch can still be armed when Node exits (unref'd: `run -d` and `create`
 * return while the report pipe and the init's pidfd stay open), and Node polls the loop again while
 * it closes its own handles after its cleanup hooks ran, which free the napi_env: a report or an
 * exit arriving then (the init execs, closing its end of the report pipe) called into the freed env,
 * a segfault in napi_open_handle_scope. Hooks run in reverse order of registration, so this one,
 * added by init() after the env was made, runs while the env is still whole: every watch of the env
 * is stopped, its fd closed and its handle closed, with no last callback (JS cannot run any more).
 */
static void watches_teardown(void *arg)
{
	napi_env env = arg;
	struct watch **p = &watches;
	while (*p) {
		struct watch *w = *p;
		if (w->env != env) {
			p = &w->next;
			continue;
		}
		watch_stop(w); /* unlinks w: *p is its successor now */
		watch_end(w);
	}
}

/* watch(pidfd, cb): on exit reap it, close it, call cb({code, signal}) */
static napi_value js_watch(napi_env env, napi_callback_info info)
{
	return watch_start(env, info, W_EXIT);
}

/* watchReports(fd, cb): the report pipe, read without blocking as messages come */
static napi_value js_watch_reports(napi_env env, napi_callback_info info)
{
	return watch_start(env, info, W_REPORT);
}

/* setRef(fd, ref): whether the watch of fd keeps Node alive; false when there is none */
static napi_value js_set_ref(napi_env env, napi_callback_info info)
{
	napi_value argv[2], out;
	bool ref = true, found = false;
	int fd;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	fd = get_i32(env, argv[0]);
	napi_get_value_bool(env, argv[1], &ref);
	for (struct watch *w = watches; w; w = w->next)
		if (w->fd == fd) {
			if (ref)
				uv_ref((uv_handle_t *)&w->poll);
			else
				uv_unref((uv_handle_t *)&w->poll);
			found = true;
		}
	napi_get_boolean(env, found, &out);
	return out;
}

/* closeFd(fd): close an fd the runner gave out (report, sync, pidfd), forgetting it */
static napi_value js_close_fd(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (one_i32(env, info, &fd) < 0)
		return NULL;
	hs_untrack_fd(fd);
	return close(fd) < 0 ? throw_errno(env, "close", errno) : NULL;
}

/* listenUnix(path) → fd: a unix stream socket listening at path (a console socket, for tests) */
static napi_value js_listen_unix(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	struct sockaddr_un addr;
	size_t len;
	int fd;
	if (get_args(env, info, 1, argv) < 0)
		return NULL;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof(addr.sun_path), &len) != napi_ok)
		return throw_errno(env, "socket", EINVAL);
	if (len >= sizeof(addr.sun_path) - 1)
		return throw_errno(env, "bind", ENAMETOOLONG);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return throw_errno(env, "socket", errno);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return throw_errno(env, "bind", e);
	}
	return int_value(env, fd);
}

/* socketPair() → [a, b]: a connected unix stream pair, both close-on-exec (runc's console socket for
 * `run` in the foreground: the init, a fork, keeps b across its steps and sends the pty master on it) */
static napi_value js_socket_pair(napi_env env, napi_callback_info info)
{
	int sv[2];
	napi_value out;
	(void)info;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return throw_errno(env, "socketpair", errno);
	napi_create_array_with_length(env, 2, &out);
	napi_set_element(env, out, 0, int_value(env, sv[0]));
	napi_set_element(env, out, 1, int_value(env, sv[1]));
	return out;
}

/* recvFd(listenFd, timeoutMs, cb, connected?): in the thread pool, accept one connection and recvmsg one
 * SCM_RIGHTS fd and its message bytes; cb(err, fd, name). Never blocks the event loop. */
struct recv_work {
	napi_async_work work;
	napi_ref cb;
	int listen_fd, timeout_ms;
	int connected; /* listen_fd is already a connected socket (one end of socketPair): no accept, not closed */
	int err, fd;
	char name[256];
	const char *syscall;
};

static void recv_execute(napi_env env, void *data)
{
	struct recv_work *r = data;
	struct pollfd p = { .fd = r->listen_fd, .events = POLLIN };
	int conn, pr;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = r->name, .iov_len = sizeof(r->name) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	(void)env;
	r->fd = -1;
	while ((pr = poll(&p, 1, r->timeout_ms)) < 0 && errno == EINTR)
		;
	if (pr <= 0) {
		r->err = pr == 0 ? ETIMEDOUT : errno;
		r->syscall = "poll";
		return;
	}
	conn = r->connected ? r->listen_fd : accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		r->err = errno;
		r->syscall = "accept";
		return;
	}
	p.fd = conn;
	while ((pr = poll(&p, 1, r->timeout_ms)) < 0 && errno == EINTR)
		;
	if (pr <= 0) {
		r->err = pr == 0 ? ETIMEDOUT : errno;
		r->syscall = "poll";
		if (!r->connected)
			close(conn);
		return;
	}
	memset(&u, 0, sizeof(u));
	while ((n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		r->err = errno;
		r->syscall = "recvmsg";
		if (!r->connected)
			close(conn);
		return;
	}
	r->name[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			int fds[4];
			memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)(nfd < 4 ? nfd : 4));
			for (int i = 0; i < nfd && i < 4; i++) {
				if (r->fd < 0)
					r->fd = fds[i];
				else
					close(fds[i]); /* only one is expected */
			}
		}
	if (r->fd < 0) {
		r->err = (msg.msg_flags & MSG_CTRUNC) ? EMSGSIZE : ENOMSG;
		r->syscall = "recvmsg";
	}
	if (!r->connected)
		close(conn);
}

static void recv_complete(napi_env env, napi_status status, void *data)
{
	struct recv_work *r = data;
	napi_value cb, recv, argv[3], result;
	napi_get_reference_value(env, r->cb, &cb);
	napi_get_undefined(env, &recv);
	if (r->err) {
		char text[160];
		napi_value msg, sc;
		snprintf(text, sizeof(text), "%s: %s", r->syscall, strerror(r->err));
		napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
		napi_create_error(env, NULL, msg, &argv[0]);
		napi_create_string_utf8(env, r->syscall, NAPI_AUTO_LENGTH, &sc);
		napi_set_named_property(env, argv[0], "syscall", sc);
		napi_set_named_property(env, argv[0], "errno", int_value(env, r->err));
	} else
		napi_get_null(env, &argv[0]);
	argv[1] = int_value(env, r->fd);
	napi_create_string_utf8(env, r->name, NAPI_AUTO_LENGTH, &argv[2]);
	(void)status;
	napi_call_function(env, recv, cb, 3, argv, &result);
	napi_delete_reference(env, r->cb);
	napi_delete_async_work(env, r->work);
	free(r);
}

static napi_value js_recv_fd(napi_env env, napi_callback_info info)
{
	napi_value argv[4], name;
	size_t argc = 4;
	bool connected = false;
	struct recv_work *r;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
		return throw_errno(env, "recvmsg", EINVAL);
	if (argc > 3)
		napi_get_value_bool(env, argv[3], &connected);
	r = calloc(1, sizeof(*r));
	if (!r)
		return throw_errno(env, "malloc", ENOMEM);
	r->connected = connected;
	r->listen_fd = get_i32(env, argv[0]);
	r->timeout_ms = get_i32(env, argv[1]);
	napi_create_reference(env, argv[2], 1, &r->cb);
	napi_create_string_utf8(env, "hostscope:recvFd", NAPI_AUTO_LENGTH, &name);
	if (napi_create_async_work(env, NULL, name, recv_execute, recv_complete, r, &r->work) != napi_ok || napi_queue_async_work(env, r->work) != napi_ok) {
		napi_delete_reference(env, r->cb);
		free(r);
		return throw_errno(env, "napi_create_async_work", EINVAL);
	}
	return NULL;
}

/* the step runner's exports beyond the original set (kept apart so other registrations merge cleanly) */
static void register_runner(napi_env env, napi_value exports)
{
	const napi_property_descriptor props[] = {
		{ "watchReports", NULL, js_watch_reports, NULL, NULL, NULL, napi_default, NULL },
		{ "setRef", NULL, js_set_ref, NULL, NULL, NULL, napi_default, NULL },
		{ "closeFd", NULL, js_close_fd, NULL, NULL, NULL, napi_default, NULL },
		{ "listenUnix", NULL, js_listen_unix, NULL, NULL, NULL, napi_default, NULL },
		{ "recvFd", NULL, js_recv_fd, NULL, NULL, NULL, napi_default, NULL },
		{ "socketPair", NULL, js_socket_pair, NULL, NULL, NULL, napi_default, NULL },
	};
	napi_value max, nregs;
	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	napi_create_int32(env, HS_MAX_STEPS, &max);
	napi_create_int32(env, HS_NREGS, &nregs);
	napi_set_named_property(env, exports, "maxSteps", max);
	napi_set_named_property(env, exports, "nregs", nregs);
}

/* pidfdOpen(pid, track?): track = a runner's process, closed in children forked later */
static napi_value js_pidfd_open(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	size_t argc = 2;
	bool track = false;
	int r;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
		return throw_errno(env, "pidfd_open", EINVAL);
	if (argc > 1)
		napi_get_value_bool(env, argv[1], &track);
	r = hs_pidfd_open(get_i32(env, argv[0]));
	if (r >= 0 && track && hs_track_fd(r) < 0) {
		close(r);
		r = -ENOMEM;
	}
	return r < 0 ? throw_errno(env, "pidfd_open", -r) : int_value(env, r);
}

static napi_value js_pidfd_send_signal(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int r;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	r = hs_pidfd_send_signal(get_i32(env, argv[0]), get_i32(env, argv[1]));
	return r < 0 ? throw_errno(env, "pidfd_send_signal", -r) : NULL;
}

static napi_value js_ns_ioctl(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int64_t r;
	static const char *const names[] = { "", "ioctl(NS_GET_USERNS)", "ioctl(NS_GET_PARENT)", "ioctl(NS_GET_NSTYPE)", "ioctl(NS_GET_OWNER_UID)" };
	int op;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	op = get_i32(env, argv[1]);
	r = hs_ns_ioctl(get_i32(env, argv[0]), op);
	return r < 0 ? throw_errno(env, op >= 1 && op <= 4 ? names[op] : "ioctl", (int)-r) : int_value(env, r);
}

static napi_value js_op_name(napi_env env, napi_callback_info info)
{
	napi_value out;
	int32_t op;
	if (one_i32(env, info, &op) < 0)
		return NULL;
	napi_create_string_utf8(env, hs_op_name(op), NAPI_AUTO_LENGTH, &out);
	return out;
}

/*
 * takeTerminal(fd): make the caller's process group the terminal's foreground group again, after a
 * child with job control (an interactive shell) took it and exited. SIGTTOU is blocked around the
 * call: a background group may then change the foreground (an orphaned one would get EIO).
 */
static napi_value js_take_terminal(napi_env env, napi_callback_info info)
{
	int32_t fd;
	sigset_t ttou, old;
	int r, e;
	if (one_i32(env, info, &fd) < 0)
		return NULL;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &ttou, &old);
	r = tcsetpgrp(fd, getpgrp());
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r < 0 ? throw_errno(env, "tcsetpgrp", e) : NULL;
}

/*
 * ttyOp(fd, op, rows, cols): 1 = clear ONLCR on a pty (runc's console.ClearONLCR on the master it
 * receives), 2 = TIOCSWINSZ rows x cols (the container's pty sized like the caller's terminal).
 */
static napi_value js_tty_op(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	int32_t fd, op, rows, cols;
	if (get_args(env, info, 4, argv) < 0)
		return NULL;
	fd = get_i32(env, argv[0]);
	op = get_i32(env, argv[1]);
	rows = get_i32(env, argv[2]);
	cols = get_i32(env, argv[3]);
	if (op == 1) {
		struct termios t;
		if (tcgetattr(fd, &t) < 0)
			return throw_errno(env, "tcgetattr", errno);
		t.c_oflag &= ~(tcflag_t)ONLCR;
		if (tcsetattr(fd, TCSANOW, &t) < 0)
			return throw_errno(env, "tcsetattr", errno);
		return NULL;
	}
	if (op == 2) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		if (rows < 0 || rows > 0xffff || cols < 0 || cols > 0xffff)
			return throw_errno(env, "ioctl(TIOCSWINSZ)", EINVAL);
		if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
			return throw_errno(env, "ioctl(TIOCSWINSZ)", errno);
		return NULL;
	}
	return throw_errno(env, "ttyOp", EINVAL);
}

/* scan.c: the host scan on the libuv threadpool */
napi_value hs_js_scan(napi_env env, napi_callback_info info);
napi_value hs_js_scan_layout(napi_env env, napi_callback_info info);
napi_value hs_js_scan_list(napi_env env, napi_callback_info info);
napi_value hs_js_scan_pids(napi_env env, napi_callback_info info);
napi_value hs_js_read_files(napi_env env, napi_callback_info info);

static napi_value init(napi_env env, napi_value exports)
{
	const napi_property_descriptor props[] = {
		{ "spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL },
		{ "release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL },
		{ "waitSync", NULL, js_wait_sync, NULL, NULL, NULL, napi_default, NULL },
		{ "watch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL },
		{ "pidfdOpen", NULL, js_pidfd_open, NULL, NULL, NULL, napi_default, NULL },
		{ "pidfdSendSignal", NULL, js_pidfd_send_signal, NULL, NULL, NULL, napi_default, NULL },
		{ "nsIoctl", NULL, js_ns_ioctl, NULL, NULL, NULL, napi_default, NULL },
		{ "opName", NULL, js_op_name, NULL, NULL, NULL, napi_default, NULL },
		{ "scan", NULL, hs_js_scan, NULL, NULL, NULL, napi_default, NULL },
		{ "takeTerminal", NULL, js_take_terminal, NULL, NULL, NULL, napi_default, NULL },
		{ "ttyOp", NULL, js_tty_op, NULL, NULL, NULL, napi_default, NULL },
		{ "scanLayout", NULL, hs_js_scan_layout, NULL, NULL, NULL, napi_default, NULL },
		{ "scanList", NULL, hs_js_scan_list, NULL, NULL, NULL, napi_default, NULL },
		{ "scanPids", NULL, hs_js_scan_pids, NULL, NULL, NULL, napi_default, NULL },
		{ "readFiles", NULL, hs_js_read_files, NULL, NULL, NULL, napi_default, NULL },
	};
	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	register_runner(env, exports);
	if (napi_add_env_cleanup_hook(env, watches_teardown, env) != napi_ok) {
		napi_throw_error(env, NULL, "hostscope native: napi_add_env_cleanup_hook failed");
		return NULL;
	}
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
