/**
 * The native SHA-1 of `@cos-v4/native` (OpenSSL through N-API, with an off-thread `updateAsync`) as core's
 * `Sha1` service, re-exported beside the other Node layers. Falls back to the pure-TypeScript SHA-1 when the
 * addon is not built.
 *
 * @since 0.1.0
 */
export * from "@cos-v4/native/NativeSha1"
