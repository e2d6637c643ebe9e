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
#include <pthread.h>
#include <stdlib.h>

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

/* argv[0] as a context and argv[1] as bytes; NULL (with a pending exception) when either is not */
static SHA_CTX* ctx_and_bytes(napi_env env, napi_value* argv, void** data, size_t* length) {
  SHA_CTX* ctx = ctx_of(env, argv[0]);
  if (ctx == NULL) return NULL;
  *data = bytes_of(env, argv[1], length);
  return *data == NULL ? NULL : ctx;
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
  size_t length = 0;
  void* data = NULL;
  SHA_CTX* ctx = ctx_and_bytes(env, argv, &data, &length);
  if (ctx != NULL && length > 0) SHA1_Update(ctx, data, length);
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


/*
 * updateAsync(ctx, bytes, callback): SHA1_Update on the addon's own hashing thread; callback() runs on the JS
 * thread when done. ctx and bytes are referenced until then and must not be touched meanwhile (one update per ctx
 * at a time). A thread of its own rather than the libuv pool: pool jobs queue behind file writes, which take
 * milliseconds each when the kernel has to find fresh pages, and the hash would fall behind the uploads.
 * Jobs run in submission order. While any is pending the event loop is kept alive (as a pool job would).
 */
typedef struct Job {
  struct Job* next;
  napi_threadsafe_function tsfn;
  napi_ref ctx_ref;
  napi_ref bytes_ref;
  napi_ref callback_ref;
  SHA_CTX* ctx;
  void* data;
  size_t length;
} Job;

typedef struct {
  napi_threadsafe_function tsfn;
  uint32_t pending;
} EnvData;

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_ready = PTHREAD_COND_INITIALIZER;
static Job* queue_head = NULL;
static Job* queue_tail = NULL;
static int worker_started = 0;

static void* HashWorker(void* unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    while (queue_head == NULL) pthread_cond_wait(&queue_ready, &queue_lock);
    Job* job = queue_head;
    queue_head = job->next;
    if (queue_head == NULL) queue_tail = NULL;
    pthread_mutex_unlock(&queue_lock);
    if (job->length > 0) SHA1_Update(job->ctx, job->data, job->length);
    napi_call_threadsafe_function(job->tsfn, job, napi_tsfn_blocking);
  }
  return NULL;
}

/* on the JS thread: drop the references, release the loop when nothing is pending, call back */
static void CallJs(napi_env env, napi_value js_cb, void* context, void* data) {
  (void)js_cb;
  EnvData* env_data = (EnvData*)context;
  Job* job = (Job*)data;
  if (env == NULL) {
    free(job);
    return;
  }
  napi_value callback, global;
  napi_get_reference_value(env, job->callback_ref, &callback);
  napi_delete_reference(env, job->ctx_ref);
  napi_delete_reference(env, job->bytes_ref);
  napi_delete_reference(env, job->callback_ref);
  free(job);
  if (--env_data->pending == 0) napi_unref_threadsafe_function(env, env_data->tsfn);
  napi_get_global(env, &global);
  napi_call_function(env, global, callback, 0, NULL, NULL);
}

static void FreeEnvData(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  free(data);
}

static EnvData* env_data_of(napi_env env) {
  EnvData* env_data = NULL;
  napi_get_instance_data(env, (void**)&env_data);
  if (env_data != NULL) return env_data;
  env_data = (EnvData*)calloc(1, sizeof(EnvData));
  if (env_data == NULL) return NULL;
  napi_value name;
  napi_create_string_utf8(env, "cos_v4_sha1_update", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, env_data, CallJs, &env_data->tsfn) !=
      napi_ok) {
    free(env_data);
    return NULL;
  }
  napi_unref_threadsafe_function(env, env_data->tsfn);
  napi_set_instance_data(env, env_data, FreeEnvData, NULL);
  return env_data;
}

static napi_value UpdateAsync(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length = 0;
  void* bytes = NULL;
  SHA_CTX* ctx = ctx_and_bytes(env, argv, &bytes, &length);
  if (ctx == NULL) return NULL;
  napi_valuetype type;
  napi_typeof(env, argv[2], &type);
  if (type != napi_function) {
    napi_throw_type_error(env, NULL, "expected a callback");
    return NULL;
  }
  EnvData* env_data = env_data_of(env);
  Job* job = (Job*)malloc(sizeof(Job));
  if (env_data == NULL || job == NULL) {
    free(job);
    napi_throw_error(env, NULL, "cannot queue the SHA-1 job");
    return NULL;
  }
  pthread_mutex_lock(&queue_lock);
  if (!worker_started) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, HashWorker, NULL) != 0) {
      pthread_mutex_unlock(&queue_lock);
      free(job);
      napi_throw_error(env, NULL, "cannot start the SHA-1 thread");
      return NULL;
    }
    pthread_detach(thread);
    worker_started = 1;
  }
  pthread_mutex_unlock(&queue_lock);
  job->next = NULL;
  job->tsfn = env_data->tsfn;
  job->ctx = ctx;
  job->data = bytes;
  job->length = length;
  napi_create_reference(env, argv[0], 1, &job->ctx_ref);
  napi_create_reference(env, argv[1], 1, &job->bytes_ref);
  napi_create_reference(env, argv[2], 1, &job->callback_ref);
  if (env_data->pending++ == 0) napi_ref_threadsafe_function(env, env_data->tsfn);
  pthread_mutex_lock(&queue_lock);
  if (queue_tail == NULL) queue_head = job;
  else queue_tail->next = job;
  queue_tail = job;
  pthread_cond_signal(&queue_ready);
  pthread_mutex_unlock(&queue_lock);
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

/* allocator.c */
napi_value RetainFreedHeap(napi_env env, napi_callback_info info);

NAPI_MODULE_INIT() {
  set_function(env, exports, "retainFreedHeap", RetainFreedHeap);
  set_function(env, exports, "init", Init);
  set_function(env, exports, "update", Update);
  set_function(env, exports, "final", Final);
  set_function(env, exports, "updateAsync", UpdateAsync);
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
