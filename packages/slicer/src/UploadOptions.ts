/**
 * Tunables of an upload. Each has a default, can be given per call in `Uploader.upload`'s options, and can
 * be overridden for a whole region of a program through a `Context.Reference` and its `withX` combinator
 * (explicit options win over references, references over defaults).
 *
 * Integrity modes (both end in a verified receipt):
 * - `"sha-at-init"` (default): the file is hashed first (one extra read of the whole file), `sha` and
 *   `uploadparts` go with init and finish. The server can answer an instant upload when it already has the
 *   content, and verifies the assembled file itself. Costs a full read before the first byte is sent.
 * - `"inline"`: one pass; the SHA-1 is computed in slice order while slices are sent, finish carries no
 *   `sha`, and a `stat` afterwards compares the stored `sha` with ours (a mismatch fails the upload). Faster
 *   for large files, no instant upload.
 *
 * @since 0.1.0
 */
import type { CosError } from "@cos-v4/core/CosError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Schedule from "effect/Schedule"

/**
 * @since 0.1.0
 * @category models
 */
export type Integrity = "sha-at-init" | "inline"

/**
 * What interruption does to the unfinished upload on the server: `keep` it (resume later from the
 * checkpoint) or `discard` it (`delete` the path; the checkpoint is removed too).
 *
 * @since 0.1.0
 * @category models
 */
export type CancelPolicy = "keep" | "discard"

/**
 * The retry schedule's input is the error being retried.
 *
 * @since 0.1.0
 * @category models
 */
export type RetrySchedule = Schedule.Schedule<unknown, CosError>

/**
 * Per-call options of an upload (all optional).
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadOptions {
  /** Slices in flight (default 4; the server's `serial_upload = 1` forces 1). */
  readonly concurrency?: number | undefined
  /** Requested slice size in bytes (default 1 MiB); the server's answer wins. */
  readonly sliceSize?: number | undefined
  /** Sources of at most this many bytes go through the simple `upload` op (default 8 MiB; ≤ 20 MiB). */
  readonly simpleUploadThreshold?: number | undefined
  /** Deadline of each request (default 120 s). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Stall window of each request: no bytes moving for this long (default 30 s; see `Transport`). */
  readonly stallTimeout?: Duration.DurationInput | undefined
  /**
   * How the content is verified for sliced uploads (default `sha-at-init`; see `Integrity`). A simple upload
   * (at most `simpleUploadThreshold` bytes) always sends its sha with the bytes, so the server verifies it: its
   * receipt says `sha-at-init` whatever was asked; a stream source is always hashed `inline`.
   */
  readonly integrity?: Integrity | undefined
  /** Delays between retries of `retry`-class failures; one budget per upload (see `Uploader`). */
  readonly retrySchedule?: RetrySchedule | undefined
  /** `true` overwrites an existing file (`insertOnly=0`); default `false` (`insertOnly=1`). */
  readonly overwrite?: boolean | undefined
  /** `biz_attr` stored with the file. */
  readonly bizAttr?: string | undefined
  readonly cancelPolicy?: CancelPolicy | undefined
}

/**
 * The default retry schedule with another number of retries: exponential from 200 ms, jittered (each delay
 * 80–120 % of the exponential one), each delay capped at 10 s, at most `retries` retries between two advances of
 * the acknowledged bytes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const retrySchedule = (retries: number): RetrySchedule =>
  Schedule.exponential("200 millis").pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(10))),
    Schedule.intersect(Schedule.recurs(retries))
  )

/**
 * The default retry schedule: `retrySchedule(8)`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRetrySchedule: RetrySchedule = retrySchedule(8)

/**
 * @since 0.1.0
 * @category references
 */
export class Concurrency extends Context.Reference<Concurrency>()("@cos-v4/slicer/UploadOptions/Concurrency", {
  defaultValue: (): number => 4
}) {}

/**
 * @since 0.1.0
 * @category references
 */
export class SliceSize extends Context.Reference<SliceSize>()("@cos-v4/slicer/UploadOptions/SliceSize", {
  defaultValue: (): number => 1048576
}) {}

/**
 * @since 0.1.0
 * @category references
 */
export class SimpleUploadThreshold extends Context.Reference<SimpleUploadThreshold>()(
  "@cos-v4/slicer/UploadOptions/SimpleUploadThreshold",
  { defaultValue: (): number => 8 * 1048576 }
) {}

/**
 * @since 0.1.0
 * @category references
 */
export class RequestTimeout extends Context.Reference<RequestTimeout>()(
  "@cos-v4/slicer/UploadOptions/RequestTimeout",
  { defaultValue: (): Duration.Duration => Duration.seconds(120) }
) {}

/**
 * @since 0.1.0
 * @category references
 */
export class StallTimeout extends Context.Reference<StallTimeout>()("@cos-v4/slicer/UploadOptions/StallTimeout", {
  defaultValue: (): Duration.Duration => Duration.seconds(30)
}) {}

/**
 * @since 0.1.0
 * @category references
 */
export class IntegrityMode extends Context.Reference<IntegrityMode>()("@cos-v4/slicer/UploadOptions/Integrity", {
  defaultValue: (): Integrity => "sha-at-init"
}) {}

/**
 * @since 0.1.0
 * @category references
 */
export class Retry extends Context.Reference<Retry>()("@cos-v4/slicer/UploadOptions/Retry", {
  defaultValue: (): RetrySchedule => defaultRetrySchedule
}) {}

/**
 * @since 0.1.0
 * @category references
 */
export class Overwrite extends Context.Reference<Overwrite>()("@cos-v4/slicer/UploadOptions/Overwrite", {
  defaultValue: (): boolean => false
}) {}

/**
 * @since 0.1.0
 * @category references
 */
export class OnCancel extends Context.Reference<OnCancel>()("@cos-v4/slicer/UploadOptions/OnCancel", {
  defaultValue: (): CancelPolicy => "keep"
}) {}

const provide = <I, S>(tag: Context.Tag<I, S>) =>
  dual<
    (value: S) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
    <A, E, R>(self: Effect.Effect<A, E, R>, value: S) => Effect.Effect<A, E, R>
  >(2, (self, value) => Effect.provideService(self, tag, value))

/**
 * @since 0.1.0
 * @category combinators
 */
export const withConcurrency: {
  (value: number): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: number): Effect.Effect<A, E, R>
} = provide(Concurrency)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withSliceSize: {
  (value: number): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: number): Effect.Effect<A, E, R>
} = provide(SliceSize)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withSimpleUploadThreshold: {
  (value: number): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: number): Effect.Effect<A, E, R>
} = provide(SimpleUploadThreshold)

const durationProvider = <I>(tag: Context.Tag<I, Duration.Duration>) =>
  dual<
    (value: Duration.DurationInput) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>,
    <A, E, R>(self: Effect.Effect<A, E, R>, value: Duration.DurationInput) => Effect.Effect<A, E, R>
  >(2, (self, value) => Effect.provideService(self, tag, Duration.decode(value)))

/**
 * @since 0.1.0
 * @category combinators
 */
export const withRequestTimeout: {
  (value: Duration.DurationInput): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: Duration.DurationInput): Effect.Effect<A, E, R>
} = durationProvider(RequestTimeout)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withStallTimeout: {
  (value: Duration.DurationInput): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: Duration.DurationInput): Effect.Effect<A, E, R>
} = durationProvider(StallTimeout)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withIntegrity: {
  (value: Integrity): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: Integrity): Effect.Effect<A, E, R>
} = provide(IntegrityMode)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withRetrySchedule: {
  (value: RetrySchedule): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: RetrySchedule): Effect.Effect<A, E, R>
} = provide(Retry)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withOverwrite: {
  (value: boolean): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: boolean): Effect.Effect<A, E, R>
} = provide(Overwrite)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withCancelPolicy: {
  (value: CancelPolicy): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, value: CancelPolicy): Effect.Effect<A, E, R>
} = provide(OnCancel)

/**
 * Every option with its value resolved (explicit option, else reference, else default).
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved {
  readonly concurrency: number
  readonly sliceSize: number
  readonly simpleUploadThreshold: number
  readonly requestTimeout: Duration.Duration
  readonly stallTimeout: Duration.Duration
  readonly integrity: Integrity
  readonly retrySchedule: RetrySchedule
  readonly overwrite: boolean
  readonly bizAttr: string | undefined
  readonly cancelPolicy: CancelPolicy
}

/**
 * Resolves the options against the references in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options?: UploadOptions): Effect.Effect<Resolved> =>
  Effect.gen(function*() {
    const o = options ?? {}
    return {
      concurrency: Math.max(1, Math.floor(o.concurrency ?? (yield* Concurrency))),
      sliceSize: o.sliceSize ?? (yield* SliceSize),
      simpleUploadThreshold: o.simpleUploadThreshold ?? (yield* SimpleUploadThreshold),
      requestTimeout: o.requestTimeout === undefined ? yield* RequestTimeout : Duration.decode(o.requestTimeout),
      stallTimeout: o.stallTimeout === undefined ? yield* StallTimeout : Duration.decode(o.stallTimeout),
      integrity: o.integrity ?? (yield* IntegrityMode),
      retrySchedule: o.retrySchedule ?? (yield* Retry),
      overwrite: o.overwrite ?? (yield* Overwrite),
      bizAttr: o.bizAttr,
      cancelPolicy: o.cancelPolicy ?? (yield* OnCancel)
    }
  })
