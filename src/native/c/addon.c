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
#include <stdlib.h>
#include <string.h>
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
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_string)
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
	}
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
		for (uint32_t i = 0; i < n && i < 4; i++) {
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
		for (uint32_t i = 0; i < n && i < 4; i++) {
			napi_value x;
			napi_get_element(env, v, i, &x);
			s->s[i] = get_string(env, ar, x);
		}
	}
	if (has(env, obj, "argv", &v))
		s->argv = get_string_array(env, ar, v);
	if (has(env, obj, "envp", &v))
		s->envp = get_string_array(env, ar, v);
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
				napi_throw_type_error(env, NULL, "hostscope native: a step has no op");
			return NULL;
		}
	}
	r = steps ? hs_spawn(steps, (int)n, get_i32(env, argv[1]), &sp) : -ENOMEM;
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

/* readReport(fd, untilWaiting) → { forked, failedStep, errno, waiting, eof } (blocks) */
static napi_value js_read_report(napi_env env, napi_callback_info info)
{
	napi_value argv[2], out, forked, b;
	struct hs_report rep;
	bool until = false;
	int r;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	napi_get_value_bool(env, argv[1], &until);
	hs_report_init(&rep);
	r = hs_read_report(get_i32(env, argv[0]), until, &rep);
	if (r < 0)
		return throw_errno(env, "read", -r);
	CHECK(napi_create_object(env, &out));
	CHECK(napi_create_array_with_length(env, (size_t)rep.nforked, &forked));
	for (int i = 0; i < rep.nforked; i++)
		napi_set_element(env, forked, (uint32_t)i, int_value(env, rep.forked[i]));
	napi_set_named_property(env, out, "forked", forked);
	napi_set_named_property(env, out, "failedStep", int_value(env, rep.failed_step));
	napi_set_named_property(env, out, "errno", int_value(env, rep.err));
	napi_get_boolean(env, rep.waiting, &b);
	napi_set_named_property(env, out, "waiting", b);
	napi_get_boolean(env, rep.eof, &b);
	napi_set_named_property(env, out, "eof", b);
	return out;
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

/* ---- watch(pidfd, cb): poll the pidfd in libuv; on exit reap it, close it, call cb({code, signal}) */
struct watch {
	uv_poll_t poll;
	napi_env env;
	napi_ref cb;
	napi_async_context ctx;
	int pidfd;
};

static void watch_closed(uv_handle_t *h)
{
	free(h->data);
}

static void watch_fired(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	napi_handle_scope scope;
	napi_value cb, recv, arg, result;
	int code = -1, sig = 0;
	int r = hs_wait_pidfd(w->pidfd, 1, &code, &sig);
	(void)status;
	(void)events;
	if (r == -EAGAIN)
		return;
	uv_poll_stop(h);
	close(w->pidfd);
	napi_open_handle_scope(w->env, &scope);
	napi_get_reference_value(w->env, w->cb, &cb);
	napi_get_global(w->env, &recv); /* MakeCallback wants an object receiver */
	arg = r < 0 ? exit_value(w->env, -1, 0) : exit_value(w->env, code, sig);
	if (napi_make_callback(w->env, w->ctx, recv, cb, 1, &arg, &result) != napi_ok) {
		/* the callback threw: let Node report it as an uncaught exception */
		bool pending = false;
		napi_value exc;
		napi_is_exception_pending(w->env, &pending);
		if (pending && napi_get_and_clear_last_exception(w->env, &exc) == napi_ok)
			napi_fatal_exception(w->env, exc);
	}
	napi_close_handle_scope(w->env, scope);
	napi_delete_reference(w->env, w->cb);
	napi_async_destroy(w->env, w->ctx);
	uv_close((uv_handle_t *)h, watch_closed);
}

static napi_value js_watch(napi_env env, napi_callback_info info)
{
	napi_value argv[2], name, resource;
	struct uv_loop_s *loop;
	struct watch *w;
	if (get_args(env, info, 2, argv) < 0)
		return NULL;
	CHECK(napi_get_uv_event_loop(env, &loop));
	w = calloc(1, sizeof(*w));
	if (!w)
		return throw_errno(env, "malloc", ENOMEM);
	w->env = env;
	w->pidfd = get_i32(env, argv[0]);
	napi_create_reference(env, argv[1], 1, &w->cb);
	napi_create_string_utf8(env, "hostscope:watch", NAPI_AUTO_LENGTH, &name);
	napi_create_object(env, &resource);
	if (napi_async_init(env, resource, name, &w->ctx) != napi_ok) {
		napi_delete_reference(env, w->cb);
		free(w);
		return throw_errno(env, "napi_async_init", EINVAL);
	}
	w->poll.data = w;
	int ri = uv_poll_init(loop, &w->poll, w->pidfd), rs = ri ? -1 : uv_poll_start(&w->poll, UV_READABLE, watch_fired);
	if (ri != 0 || rs != 0) {
		napi_delete_reference(env, w->cb);
		napi_async_destroy(env, w->ctx);
		free(w);
		return throw_errno(env, "uv_poll", EINVAL);
	}
	return NULL;
}

static napi_value js_pidfd_open(napi_env env, napi_callback_info info)
{
	int32_t pid;
	int r;
	if (one_i32(env, info, &pid) < 0)
		return NULL;
	r = hs_pidfd_open(pid);
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

static napi_value init(napi_env env, napi_value exports)
{
	const napi_property_descriptor props[] = {
		{ "spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL },
		{ "release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL },
		{ "readReport", NULL, js_read_report, NULL, NULL, NULL, napi_default, NULL },
		{ "waitSync", NULL, js_wait_sync, NULL, NULL, NULL, napi_default, NULL },
		{ "watch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL },
		{ "pidfdOpen", NULL, js_pidfd_open, NULL, NULL, NULL, napi_default, NULL },
		{ "pidfdSendSignal", NULL, js_pidfd_send_signal, NULL, NULL, NULL, napi_default, NULL },
		{ "nsIoctl", NULL, js_ns_ioctl, NULL, NULL, NULL, napi_default, NULL },
		{ "opName", NULL, js_op_name, NULL, NULL, NULL, napi_default, NULL },
	};
	napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
