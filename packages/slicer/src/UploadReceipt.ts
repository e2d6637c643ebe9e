/**
 * What a finished upload proves: the content's SHA-1 (verified by the server at finish in `sha-at-init`
 * mode, or compared with the stored `sha` by a `stat` in `inline` mode), sizes, the session, how much was
 * sent or skipped, every failure met on the way, the server's access info and timings.
 *
 * @since 0.1.0
 */
import type { AttemptFailure } from "@cos-v4/core/CosError"
import type { AccessInfo } from "@cos-v4/core/Protocol"
import type { Integrity } from "./UploadOptions.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface UploadReceipt {
  /** The decoded target path. */
  readonly path: string
  /** Lowercase hex SHA-1 of the uploaded content. */
  readonly sha1: string
  readonly fileSize: number
  /** The slice size used (the server's), or the file size for a simple upload. */
  readonly sliceSize: number
  /** The slice session; `undefined` for simple and instant uploads. */
  readonly session: string | undefined
  readonly sliceCount: number
  /** Slices sent by this run. */
  readonly slicesSent: number
  /** Slices the server already had (resumed upload). */
  readonly slicesSkipped: number
  /** Content bytes sent by this run (retries counted once per send). */
  readonly bytesSent: number
  /** Content bytes the server already had. */
  readonly bytesSkipped: number
  /** HTTP requests made by this run (all ops, all attempts). */
  readonly requests: number
  /** Failed attempts that were recovered from (retried, re-signed or resynchronised). */
  readonly retries: number
  /** Every failure met on the way (empty for a clean run). */
  readonly failures: ReadonlyArray<AttemptFailure>
  /** The server already had the content (init answered with access info). */
  readonly instant: boolean
  /** Sent with the simple `upload` op. */
  readonly simple: boolean
  /** An unfinished upload was continued. */
  readonly resumed: boolean
  /** The mode used: `sha-at-init` for simple uploads, `inline` for sources that cannot be read twice. */
  readonly integrity: Integrity
  /** How the content was verified: by the server against `sha` (`server`), or by comparing `stat`'s `sha`. */
  readonly verifiedBy: "server" | "stat"
  readonly access: AccessInfo
  /** Epoch milliseconds, from `Clock`. */
  readonly startedAt: number
  readonly finishedAt: number
  readonly durationMillis: number
  /**
   * Of `durationMillis`, the time spent hashing the whole source before `upload_slice_init` (the `sha-at-init`
   * pass that yields `sha` and `uploadparts`; nothing can be sent meanwhile). 0 when the hash was computed while
   * the slices were sent (`inline`), for simple uploads and when a resumed upload's checkpoint had the `sha`.
   */
  readonly hashingMillis: number
  /**
   * Slice buffers: how many the upload used, their size, the most in use at once, and how many of them came
   * back from earlier uploads through the `BufferPool` (the rest were allocated).
   */
  readonly buffers: {
    readonly count: number
    readonly size: number
    readonly peakInUse: number
    readonly reused: number
  }
}
