/*
 * SHA-1 through the OpenSSL that Node itself links and exports. The SHA_CTX lives in a JS Uint8Array, so
 * JavaScript can read the chaining state (its first 20 bytes, host-order words) and copy / restore contexts.
 */
#define NAPI_VERSION 8
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <node_api.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

static void* bytes_of(napi_env env, napi_value value, size_t* length) {
  napi_typedarray_type type;
  void* data = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return NULL;
  }
  return data;
}

static SHA_CTX* ctx_of(napi_env env, napi_value value) {
  size_t length = 0;
  void* data = bytes_of(env, value, &length);
  if (data == NULL) return NULL;
  if (length < sizeof(SHA_CTX)) {
    napi_throw_range_error(env, NULL, "context buffer too small");
    return NULL;
  }
  return (SHA_CTX*)data;
}

/* init(ctx) */
static napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  SHA_CTX* ctx = ctx_of(env, argv[0]);
  if (ctx != NULL) SHA1_Init(ctx);
  return NULL;
}

/* update(ctx, bytes) */
static napi_value Update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  SHA_CTX* ctx = ctx_of(env, argv[0]);
  if (ctx == NULL) return NULL;
  size_t length = 0;
  void* data = bytes_of(env, argv[1], &length);
  if (data != NULL && length > 0) SHA1_Update(ctx, data, length);
  return NULL;
}

/* final(ctx, out20): finalises ctx (pass a copy to keep the original) */
static napi_value Final(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  SHA_CTX* ctx = ctx_of(env, argv[0]);
  if (ctx == NULL) return NULL;
  size_t length = 0;
  unsigned char* out = bytes_of(env, argv[1], &length);
  if (out == NULL) return NULL;
  if (length < SHA_DIGEST_LENGTH) {
    napi_throw_range_error(env, NULL, "digest buffer too small");
    return NULL;
  }
  SHA1_Final(out, ctx);
  return NULL;
}

static void set_uint32(napi_env env, napi_value obj, const char* name, uint32_t value) {
  napi_value v;
  napi_create_uint32(env, value, &v);
  napi_set_named_property(env, obj, name, v);
}

static void set_function(napi_env env, napi_value obj, const char* name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, obj, name, fn);
}

NAPI_MODULE_INIT() {
  set_function(env, exports, "init", Init);
  set_function(env, exports, "update", Update);
  set_function(env, exports, "final", Final);
  /* the SHA_CTX layout, so JavaScript can export / import states without assuming it */
  set_uint32(env, exports, "ctxSize", (uint32_t)sizeof(SHA_CTX));
  set_uint32(env, exports, "offsetH", (uint32_t)offsetof(SHA_CTX, h0));
  set_uint32(env, exports, "offsetNl", (uint32_t)offsetof(SHA_CTX, Nl));
  set_uint32(env, exports, "offsetNh", (uint32_t)offsetof(SHA_CTX, Nh));
  set_uint32(env, exports, "offsetData", (uint32_t)offsetof(SHA_CTX, data));
  set_uint32(env, exports, "offsetNum", (uint32_t)offsetof(SHA_CTX, num));
  set_uint32(env, exports, "wordSize", (uint32_t)sizeof(SHA_LONG));
  return exports;
}
