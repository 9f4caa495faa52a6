/*
 * N-API helpers shared by the addon's asynchronous calls (scan.c, files.c): settle a promise with
 * an Error. hs.h stays free of N-API (the step runner is plain system calls).
 */
#ifndef HOSTSCOPE_HS_NAPI_H
#define HOSTSCOPE_HS_NAPI_H

#include <node_api.h>
#include <string.h>

/* reject `d` with an Error of this message */
static inline void hs_reject(napi_env env, napi_deferred d, const char *text)
{
	napi_value msg, err;
	napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
	napi_create_error(env, NULL, msg, &err);
	napi_reject_deferred(env, d, err);
}

/* reject `d` with an Error of strerror(e), its `errno` and `syscall` set (as node's own errors) */
static inline void hs_reject_errno(napi_env env, napi_deferred d, int e, const char *syscall)
{
	napi_value msg, err, no, sc;
	napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
	napi_create_error(env, NULL, msg, &err);
	napi_create_int32(env, e, &no);
	napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
	napi_set_named_property(env, err, "errno", no);
	napi_set_named_property(env, err, "syscall", sc);
	napi_reject_deferred(env, d, err);
}

#endif
