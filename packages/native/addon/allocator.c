/*
 * glibc malloc tuning for server processes. Node's HTTP parser copies every body chunk (up to 64 KiB) into a
 * freshly malloc'ed buffer; with glibc's default trim threshold the heap top is handed back to the kernel
 * after each request and faulted in again by the next one (~190 page faults per 1 MiB slice in the emulator).
 * `retainFreedHeap(trim, mmap, pad)` keeps up to `trim` bytes of freed heap, serves blocks below `mmap` from
 * the heap, and grows the heap `pad` bytes at a time. Returns false where there is no glibc.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

napi_value RetainFreedHeap(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t values[3] = { 0, 0, 0 };
  for (size_t i = 0; i < 3; i++) {
    if (i >= argc || napi_get_value_int64(env, argv[i], &values[i]) != napi_ok || values[i] < 0 ||
        values[i] > INT32_MAX) {
      napi_throw_range_error(env, NULL, "expected three sizes between 0 and 2^31 - 1");
      return NULL;
    }
  }
  int applied = 0;
#if defined(__GLIBC__)
  applied = mallopt(M_TRIM_THRESHOLD, (int)values[0]) == 1 && mallopt(M_MMAP_THRESHOLD, (int)values[1]) == 1 &&
            mallopt(M_TOP_PAD, (int)values[2]) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, applied, &result);
  return result;
}
