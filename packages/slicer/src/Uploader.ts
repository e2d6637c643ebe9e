/**
 * The resumable uploader: `upload(source, target, options)` → an `UploadReceipt`, and
 * `uploadWithProgress`, the same upload as a `Stream` of `UploadEvent`s ending with `Completed`.
 *
 * Flow. Sources of at most `simpleUploadThreshold` bytes go through the simple `upload` op. Larger ones:
 * lock the target in the `CheckpointStore`; a checkpoint for the same source identity (size, mtime,
 * content samples) makes the uploader ask `upload_slice_list` first and continue that session; otherwise
 * `upload_slice_init` (after hashing, in `sha-at-init` mode). An init answered with access info is an
 * instant upload. An init answered with `-4019` (an unfinished upload exists) leads to `upload_slice_list`:
 * when its `filesize` equals the source's size and its `sha` equals ours (sha-at-init mode), only the missing
 * slices are sent; a session with nothing to check it against (no sha, and no checkpoint of it) is never
 * continued, as its slices may hold other bytes. A stale upload of our own (checkpoint of other content) or,
 * with `overwrite`, any other is deleted and init is retried; otherwise the upload fails (`UploadFailed`
 * whose last failure is `SourceError` `Changed`). Slices are read
 * in order into a pool of `concurrency + 1` envelope buffers and sent with bounded concurrency (1 when the
 * server answers `serial_upload = 1`), then `upload_slice_finish` (and in `inline` mode a verifying `stat`).
 *
 * Failures are handled by recovery class: `retry` waits per the retry schedule, whose state is *one* budget
 * shared by all requests of the upload and starts over whenever a slice is acknowledged; `resign` invalidates
 * the `Signer` and resends at once (at most 3 times in a row); `resync` lists the slices and continues;
 * `never` ends the upload. Every failure that ends an upload is an `UploadFailed` listing all failures met.
 *
 * Interruption aborts the requests in flight and saves the checkpoint; with `cancelPolicy: "discard"` it
 * deletes the unfinished upload on the server and the checkpoint instead. A failed upload keeps its
 * checkpoint so that a rerun resumes. One tracing span per upload (`Uploader.upload`), none per slice.
 *
 * @since 0.1.0
 */
import type { CosError } from "@cos-v4/core/CosError"
import type { Sha1 } from "@cos-v4/core/Sha1"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { CheckpointStore } from "./CheckpointStore.js"
import type { CosConfig } from "./CosConfig.js"
import * as internal from "./internal/uploader.js"
import type { Signer } from "./Signer.js"
import type { Transport } from "./Transport.js"
import type { UploadEvent } from "./UploadEvent.js"
import type { UploadOptions } from "./UploadOptions.js"
import type { UploadReceipt } from "./UploadReceipt.js"
import * as UploadSource from "./UploadSource.js"

/**
 * The services an upload needs.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = Transport | Signer | CheckpointStore | Sha1 | CosConfig

/**
 * Uploads a source to a target path (a file path such as `/dir/a.bin`).
 *
 * @since 0.1.0
 * @category uploading
 */
export const upload = <R = never>(
  source: UploadSource.UploadSource<R>,
  target: string,
  options?: UploadOptions
): Effect.Effect<UploadReceipt, CosError, Requirements | R> => internal.upload(source, target, options, () => {})

/**
 * Uploads a file of the `FileSystem` in context.
 *
 * @since 0.1.0
 * @category uploading
 */
export const uploadFile = (
  path: string,
  target: string,
  options?: UploadOptions
): Effect.Effect<UploadReceipt, CosError, Requirements | FileSystem.FileSystem> =>
  upload(UploadSource.fromFile(path), target, options)

/**
 * The upload as a stream of progress events; the last element is `Completed` with the receipt, and a failed
 * upload fails the stream. Intermediate events go through a sliding buffer of `bufferSize` (default 64)
 * events, so a slow consumer sees the latest events and never slows the upload; the terminal outcome is never
 * dropped. Ending the stream early interrupts the upload (see the cancellation policy).
 *
 * @since 0.1.0
 * @category uploading
 */
export const uploadWithProgress = <R = never>(
  source: UploadSource.UploadSource<R>,
  target: string,
  options?: UploadOptions & { readonly bufferSize?: number | undefined }
): Stream.Stream<UploadEvent, CosError, Requirements | R> =>
  internal.uploadWithProgress(source, target, options, Math.max(2, options?.bufferSize ?? 64))
