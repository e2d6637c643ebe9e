/**
 * Progress events of an upload. `bytesAcknowledged` never decreases (acknowledgements that arrive out of
 * order are summed per distinct slice), and only `Completed` means 100 %: it comes after the finish (and, in
 * `inline` mode, the verifying `stat`) succeeded. `bytesAcknowledged` reaches `totalBytes` when the last slice
 * is acknowledged, before the finish; `percent` gives the figure to show.
 *
 * @since 0.1.0
 */
import type { CosError, Op } from "@cos-v4/core/CosError"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type { UploadReceipt } from "./UploadReceipt.js"

/**
 * @since 0.1.0
 * @category models
 */
export type UploadEvent = Data.TaggedEnum<{
  /** `sha-at-init` mode: the whole file is being hashed before init. */
  Hashing: { readonly bytesHashed: number; readonly totalBytes: number }
  /** A session exists (or a simple upload starts). */
  Initialised: {
    readonly session: string | undefined
    readonly sliceSize: number
    readonly sliceCount: number
    readonly concurrency: number
    readonly totalBytes: number
    readonly simple: boolean
  }
  /** An unfinished upload is continued: the server already has these bytes. */
  Resumed: { readonly session: string; readonly skippedSlices: number; readonly skippedBytes: number }
  /** A slice (or the whole file of a simple upload) was handed to the transport. */
  SliceSent: { readonly offset: number; readonly length: number; readonly bytesSent: number }
  /** The server acknowledged a slice. */
  SliceAcknowledged: {
    readonly offset: number
    readonly length: number
    readonly bytesAcknowledged: number
    readonly totalBytes: number
  }
  /** A request failed with a `retry`-class error and is sent again after `delay`. */
  Retrying: {
    readonly error: CosError
    readonly op: Op
    readonly offset: number | undefined
    readonly attempt: number
    readonly delay: Duration.Duration
  }
  /** A request made no progress within the stall window (a `Retrying` follows when it is retried). */
  Stalled: { readonly op: Op; readonly offset: number | undefined }
  /** All slices are acknowledged; finish is being sent. */
  Finishing: { readonly bytesAcknowledged: number; readonly totalBytes: number }
  Completed: { readonly receipt: UploadReceipt }
}>

/**
 * Constructors and matchers (`UploadEvent.SliceSent({...})`, `UploadEvent.$is("Completed")`, `$match`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const UploadEvent: Data.TaggedEnum.Constructor<UploadEvent> = Data.taggedEnum<UploadEvent>()

/**
 * The upload's progress after `event` in whole percent, for display: the acknowledged bytes over the total,
 * at most 99 until `Completed`, which alone is 100 (the last slice is acknowledged before the finish, and only a
 * successful finish stores the file). `undefined` for events that carry no acknowledged byte count.
 *
 * @since 0.1.0
 * @category getters
 */
export const percent = (event: UploadEvent): number | undefined => {
  switch (event._tag) {
    case "SliceAcknowledged":
    case "Finishing":
      return event.totalBytes <= 0
        ? 99
        : Math.min(99, Math.floor((event.bytesAcknowledged / event.totalBytes) * 100))
    case "Completed":
      return 100
    default:
      return undefined
  }
}
