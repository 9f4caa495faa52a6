/*
 * readFiles: many small files under one root read on the libuv threadpool, in one call. The live
 * source's batch read (src/source/source.ts readSysTexts / readProcTexts): a poller that reads
 * the same few hundred cgroup and /proc counter files every second (ctop, the exporter) does it
 * off the event loop, without a JavaScript call per open, fstat, read and close.
 *
 * Each file is opened with openat2(2) beneath the root's directory fd (RESOLVE_BENEATH: no `..`
 * or absolute path or symlink leads out of it; RESOLVE_NO_MAGICLINKS: no /proc/PID/fd-style jump),
 * O_NONBLOCK (a FIFO cannot block), refused unless a regular file (when asked), and read to EOF
 * but never past `cap` bytes. The caller gets, per file, its bytes or why not.
 */
#define _GNU_SOURCE
#include "hs.h"
#include "hs-napi.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* per-file result codes besides 0 (read) and > 0 (errno) */
#define RF_NOT_REGULAR (-1)
#define RF_TOO_BIG (-2)
#define RF_WOULD_BLOCK (-3)

#define RF_MAX_FILES 65536
#define RF_MAX_CAP (1024 * 1024)
/* all the files of one call together: past this a file is refused as too big (read alone then) */
#define RF_MAX_TOTAL ((size_t)256 * 1024 * 1024)

struct readfiles {
	napi_async_work work;
	napi_deferred deferred;
	char *root;
	char *names; /* count NUL-terminated relative paths, one after the other */
	size_t count;
	size_t cap;
	int regular_only;
	int err; /* < 0: the whole call failed (the root could not be opened, no memory) */
	char *data;
	size_t len, data_cap;
	int32_t *ends; /* end offset of each file's bytes in data (its start is the previous end) */
	int32_t *codes;
};

static void rf_free(struct readfiles *r)
{
	if (!r)
		return;
	free(r->root);
	free(r->names);
	free(r->data);
	free(r->ends);
	free(r->codes);
	free(r);
}

static int rf_reserve(struct readfiles *r, size_t more)
{
	if (r->len + more <= r->data_cap)
		return 0;
	size_t cap = r->data_cap ? r->data_cap : 64 * 1024;
	while (cap < r->len + more)
		cap *= 2;
	char *p = realloc(r->data, cap);
	if (!p)
		return -ENOMEM;
	r->data = p;
	r->data_cap = cap;
	return 0;
}

/* one file: its bytes appended to r->data; returns its code */
static int rf_one(struct readfiles *r, int dirfd, const char *name)
{
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
	if (fd < 0)
		return errno;
	int code = 0;
	if (r->regular_only) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			code = errno;
		else if (!S_ISREG(st.st_mode))
			code = RF_NOT_REGULAR;
	}
	size_t start = r->len;
	while (code == 0) {
		/* one byte past the cap proves the file too big */
		size_t room = r->cap + 1 - (r->len - start);
		if (room == 0) {
			code = RF_TOO_BIG;
			break;
		}
		size_t chunk = room < 16384 ? room : 16384;
		if (r->len + chunk > RF_MAX_TOTAL) {
			code = RF_TOO_BIG;
			break;
		}
		int e = rf_reserve(r, chunk);
		if (e < 0) {
			code = -e;
			break;
		}
		ssize_t n = read(fd, r->data + r->len, chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			code = errno == EAGAIN ? RF_WOULD_BLOCK : errno;
			break;
		}
		if (n == 0)
			break;
		r->len += (size_t)n;
	}
	close(fd);
	if (code != 0)
		r->len = start;
	return code;
}

static void rf_execute(napi_env env, void *data)
{
	struct readfiles *r = data;
	int dirfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r->err = -errno;
		return;
	}
	/*
	 * openat2 itself first: a kernel before 5.6 has none (ENOSYS), and a seccomp filter (docker's
	 * default profile, systemd-nspawn) may refuse it with EPERM: then every file would look
	 * denied. The whole call fails instead, and the caller reads the files one at a time.
	 */
	struct open_how probe;
	memset(&probe, 0, sizeof probe);
	probe.flags = O_PATH | O_CLOEXEC;
	probe.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	int pfd = (int)syscall(SYS_openat2, dirfd, ".", &probe, sizeof probe);
	if (pfd < 0) {
		r->err = -errno;
		close(dirfd);
		return;
	}
	close(pfd);
	if (!(r->ends = malloc((r->count ? r->count : 1) * sizeof(int32_t))) ||
	    !(r->codes = malloc((r->count ? r->count : 1) * sizeof(int32_t)))) {
		r->err = -ENOMEM;
		close(dirfd);
		return;
	}
	const char *name = r->names;
	for (size_t i = 0; i < r->count; i++) {
		r->codes[i] = rf_one(r, dirfd, name);
		if (r->len > INT32_MAX) {
			r->err = -EOVERFLOW;
			break;
		}
		r->ends[i] = (int32_t)r->len;
		name += strlen(name) + 1;
	}
	close(dirfd);
}

static int rf_buffer(napi_env env, void *p, size_t len, napi_value *out)
{
	void *dst;
	if (napi_create_arraybuffer(env, len, &dst, out) != napi_ok)
		return -1;
	if (len)
		memcpy(dst, p, len);
	return 0;
}

static void rf_complete(napi_env env, napi_status status, void *data)
{
	struct readfiles *r = data;
	if (status != napi_ok || r->err < 0) {
		hs_reject_errno(env, r->deferred, r->err < 0 ? -r->err : ECANCELED, "readFiles");
	} else {
		napi_value result, d, ends, codes;
		napi_create_object(env, &result);
		/* the bytes are copied into a V8-owned buffer: small (counter files), and freed here at once */
		int bad = rf_buffer(env, r->data, r->len, &d);
		bad |= rf_buffer(env, r->ends, r->count * sizeof(int32_t), &ends);
		bad |= rf_buffer(env, r->codes, r->count * sizeof(int32_t), &codes);
		if (bad) {
			hs_reject(env, r->deferred, "hostscope native: cannot hand the files to JavaScript");
		} else {
			napi_set_named_property(env, result, "data", d);
			napi_set_named_property(env, result, "ends", ends);
			napi_set_named_property(env, result, "codes", codes);
			napi_resolve_deferred(env, r->deferred, result);
		}
	}
	napi_delete_async_work(env, r->work);
	rf_free(r);
}

/* a JavaScript string argument, malloc'd (NUL-terminated); its byte length in *len */
static char *rf_string(napi_env env, napi_value v, size_t *len)
{
	size_t n;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
		return NULL;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	if (napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok) {
		free(s);
		return NULL;
	}
	if (len)
		*len = n;
	return s;
}

/*
 * readFiles(root: string, names: string (count relative paths, each ended by "\0"), count, cap,
 *           regularOnly: boolean) → Promise<{ data: ArrayBuffer, ends: ArrayBuffer (int32 per
 *           file), codes: ArrayBuffer (int32 per file: 0 read; > 0 errno; -1 not a regular file;
 *           -2 larger than cap; -3 would block) }>
 */
napi_value hs_js_read_files(napi_env env, napi_callback_info info)
{
	size_t argc = 5;
	napi_value argv[5];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
		napi_throw_type_error(env, NULL, "readFiles(root, names, count, cap, regularOnly)");
		return NULL;
	}
	uint32_t count, cap;
	bool regular;
	if (napi_get_value_uint32(env, argv[2], &count) != napi_ok || napi_get_value_uint32(env, argv[3], &cap) != napi_ok ||
	    napi_get_value_bool(env, argv[4], &regular) != napi_ok || count > RF_MAX_FILES || cap > RF_MAX_CAP) {
		napi_throw_range_error(env, NULL, "readFiles: count at most 65536, cap at most 1 MiB");
		return NULL;
	}
	struct readfiles *r = calloc(1, sizeof *r);
	size_t nlen = 0;
	if (!r || !(r->root = rf_string(env, argv[0], NULL)) || !(r->names = rf_string(env, argv[1], &nlen))) {
		rf_free(r);
		napi_throw_error(env, NULL, "readFiles: bad arguments");
		return NULL;
	}
	/* the names must be exactly `count` NUL-ended paths, none empty */
	size_t seen = 0;
	for (size_t i = 0, startp = 0; i < nlen; i++)
		if (r->names[i] == '\0') {
			if (i == startp)
				seen = RF_MAX_FILES + 1;
			seen++;
			startp = i + 1;
		}
	if (seen != count || (nlen > 0 && r->names[nlen - 1] != '\0')) {
		rf_free(r);
		napi_throw_range_error(env, NULL, "readFiles: names must be `count` non-empty paths, each ended by NUL");
		return NULL;
	}
	r->count = count;
	r->cap = cap;
	r->regular_only = regular;
	napi_value promise, name;
	if (napi_create_promise(env, &r->deferred, &promise) != napi_ok ||
	    napi_create_string_utf8(env, "hostscope.readFiles", NAPI_AUTO_LENGTH, &name) != napi_ok ||
	    napi_create_async_work(env, NULL, name, rf_execute, rf_complete, r, &r->work) != napi_ok ||
	    napi_queue_async_work(env, r->work) != napi_ok) {
		rf_free(r);
		napi_throw_error(env, NULL, "hostscope native: cannot queue readFiles");
		return NULL;
	}
	return promise;
}
