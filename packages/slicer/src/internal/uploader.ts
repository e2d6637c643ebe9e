import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import type * as Protocol from "@cos-v4/core/Protocol"
import * as Sha1 from "@cos-v4/core/Sha1"
import * as SlicePlan from "@cos-v4/core/SlicePlan"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as BufferPool from "../BufferPool.js"
import * as CheckpointStore from "../CheckpointStore.js"
import { CosConfig } from "../CosConfig.js"
import { Signer } from "../Signer.js"
import { headRoom, tailRoom, Transport } from "../Transport.js"
import { UploadEvent } from "../UploadEvent.js"
import * as UploadOptions from "../UploadOptions.js"
import type { UploadReceipt } from "../UploadReceipt.js"
import type * as UploadSource from "../UploadSource.js"
import { readFully } from "./uploadSource.js"

/** @internal */
export type Requirements = Transport | Signer | CheckpointStore.CheckpointStore | Sha1.Sha1 | CosConfig

type Emit = (event: UploadEvent) => void

/**
 * Waits for a hashing job that runs off the JavaScript thread (`updateAsync` of a native `Sha1`). The job takes
 * about half a millisecond per MiB and cannot be cancelled, so it is waited for even on interruption: its buffer
 * goes back to the pool only once nothing reads it any more.
 */
const hashAsync = (start: (done: () => void) => void): Effect.Effect<void> =>
  Effect.uninterruptible(Effect.async<void>((resume) => start(() => resume(Effect.void))))

/** Feeds `bytes` to `hasher`, off the JavaScript thread when the hasher can. */
const hashInto = (hasher: Sha1.Sha1Hasher, bytes: Uint8Array): Effect.Effect<void> =>
  hasher.updateAsync === undefined
    ? Effect.sync(() => hasher.update(bytes))
    : hashAsync((done) => hasher.updateAsync!(bytes, done))

const maxResigns = 3
const maxResyncs = 5
const sampleSize = 65536
const checkpointEvery = 16
/** Bytes per `updateFileAsync` job of the `sha-at-init` pre-pass (rounded down to whole slices): one `Hashing` event each. */
const fileRangeBytes = 64 << 20

// ---------------------------------------------------------------------------------------------------------------
// buffer pool: (concurrency + 1) envelope buffers, nothing else is allocated per slice
// ---------------------------------------------------------------------------------------------------------------

interface Pool {
  readonly count: number
  readonly size: number
  /** of `count`, the buffers that came from the shared `BufferPool` */
  readonly reused: number
  readonly take: Effect.Effect<Uint8Array>
  readonly release: (buffer: Uint8Array, exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
  readonly peak: () => number
}

/**
 * The upload's pool: `count` buffers, from the shared `BufferPool` when `shared` is given. They go back to it when
 * the upload's scope closes, except those whose use ended in a failure or an interruption (a read abandoned by an
 * interruption may still be writing into them).
 */
const makePool = (
  count: number,
  contentSize: number,
  shared: BufferPool.BufferPool.Service | undefined
): Effect.Effect<Pool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const size = headRoom + contentSize + tailRoom
    const { buffers, reused } = shared === undefined
      ? { buffers: Array.from({ length: count }, () => new Uint8Array(size)), reused: 0 }
      : yield* shared.take(count, size)
    const tainted = new Set<Uint8Array>()
    if (shared !== undefined) {
      yield* Effect.addFinalizer(() => shared.give(buffers.filter((b) => !tainted.has(b))))
    }
    const queue = yield* Queue.bounded<Uint8Array>(count)
    yield* Queue.offerAll(queue, buffers)
    let inUse = 0
    let peak = 0
    return {
      count,
      size,
      reused,
      take: Effect.map(Queue.take(queue), (buffer) => {
        inUse++
        if (inUse > peak) peak = inUse
        return buffer
      }),
      release: (buffer, exit) =>
        Effect.suspend(() => {
          inUse--
          if (!Exit.isSuccess(exit)) tainted.add(buffer)
          return Queue.offer(queue, buffer)
        }),
      peak: () => peak
    }
  })

const withBuffer = <A, E, R>(pool: Pool, f: (buffer: Uint8Array) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(pool.take, f, pool.release)

// ---------------------------------------------------------------------------------------------------------------
// the upload
// ---------------------------------------------------------------------------------------------------------------

const parseTarget = (target: string): Either.Either<CosPath.CosPath, CosError.InvalidArgument> =>
  Either.mapLeft(
    CosPath.parseFile(target),
    (e) => new CosError.InvalidArgument({ reason: "InvalidPath", argument: "target", detail: e.message })
  )

const stripSuffix = (sha: string | undefined) => sha === undefined ? undefined : sha.split("_")[0]!.toLowerCase()

/** @internal */
export const upload = <R>(
  source: UploadSource.UploadSource<R>,
  target: string,
  options: UploadOptions.UploadOptions | undefined,
  emit: Emit
): Effect.Effect<UploadReceipt, CosError.CosError, Requirements | R> =>
  Effect.gen(function*() {
    const path = yield* parseTarget(target)
    const opts = yield* UploadOptions.resolve(options)
    if (!Number.isSafeInteger(opts.sliceSize) || opts.sliceSize <= 0 || opts.sliceSize % 64 !== 0) {
      return yield* new CosError.InvalidArgument({
        reason: "InvalidSliceSize",
        argument: "sliceSize",
        detail: `${opts.sliceSize} is not a positive multiple of 64 (the documented sizes are 512 KiB, 1, 2 and 3 MiB)`
      })
    }
    const run = Effect.scoped(runUpload(source, path, opts, emit))
    // the references the transport reads per request follow the resolved options
    return yield* run.pipe(
      Effect.provideService(UploadOptions.RequestTimeout, opts.requestTimeout),
      Effect.provideService(UploadOptions.StallTimeout, opts.stallTimeout)
    )
  }).pipe(Effect.withSpan("Uploader.upload", { attributes: { "cos.target": target } }))

const runUpload = <R>(
  source: UploadSource.UploadSource<R>,
  path: CosPath.CosPath,
  opts: UploadOptions.Resolved,
  emit: Emit
): Effect.Effect<UploadReceipt, CosError.CosError, Requirements | R | Scope.Scope> =>
  Effect.gen(function*() {
    const transport = yield* Transport
    const signer = yield* Signer
    const store = yield* CheckpointStore.CheckpointStore
    const sha1 = yield* Sha1.Sha1
    const cos = yield* CosConfig
    const buffers = yield* BufferPool.BufferPool
    const startedAt = yield* Clock.currentTimeMillis
    const schedule = opts.retrySchedule

    // ---- shared mutable state (fibers interleave only at yield points) ----
    const stats = {
      requests: 0,
      retries: 0,
      failures: [] as Array<CosError.AttemptFailure>,
      bytesSent: 0,
      slicesSent: 0,
      bytesSkipped: 0,
      slicesSkipped: 0,
      bytesAcked: 0,
      acked: new Set<number>(),
      scheduleState: schedule.initial as unknown,
      attempt: 0,
      acksSinceSave: 0,
      hashingMillis: 0
    }
    const state = {
      session: undefined as string | undefined,
      sliceSize: opts.sliceSize,
      sha: undefined as string | undefined,
      pool: undefined as Pool | undefined
    }

    const failed = (reason: "Terminal" | "RetriesExhausted") =>
      new CosError.UploadFailed({
        reason,
        path,
        attempts: stats.requests,
        acknowledgedBytes: stats.bytesAcked,
        failures: [...stats.failures],
        ...(state.session === undefined ? {} : { session: state.session })
      })
    const terminal = (error: CosError.CosError, offset?: number) =>
      Effect.suspend(() => {
        if (error._tag === "UploadFailed") return Effect.fail(error)
        stats.failures.push(CosError.toAttemptFailure(error, offset))
        return Effect.fail(failed("Terminal"))
      })

    const scheduleLock = yield* Effect.makeSemaphore(1)
    const nextDelay = (error: CosError.CosError): Effect.Effect<Option.Option<Duration.Duration>> =>
      scheduleLock.withPermits(1)(Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const [next, , decision] = yield* schedule.step(now, error, stats.scheduleState)
        if (ScheduleDecision.isDone(decision)) return Option.none()
        stats.scheduleState = next
        stats.attempt++
        return Option.some(Duration.millis(Math.max(0, Intervals.start(decision.intervals) - now)))
      }))

    // runs one request, recovering per the error's class. The fast path (success at the first attempt) is one
    // `catchAll`; the retry loop is built only when a request fails.
    const recovering = <A>(
      op: CosError.Op,
      offset: number | undefined,
      effect: Effect.Effect<A, CosError.CosError>,
      resync?: (error: CosError.CosError) => Effect.Effect<Option.Option<A>, CosError.CosError>
    ): Effect.Effect<A, CosError.CosError> => {
      const attempt = Effect.suspend(() => {
        stats.requests++
        return effect
      })
      return Effect.catchAll(attempt, (first) =>
        Effect.gen(function*() {
          let resigns = 0
          let resyncs = 0
          let error = first
          while (true) {
            if (error._tag === "UploadFailed") return yield* error
            stats.failures.push(CosError.toAttemptFailure(error, offset))
            switch (error.recovery) {
              case "retry": {
                if (error._tag === "TransportError" && error.reason === "Stalled") {
                  emit(UploadEvent.Stalled({ op, offset }))
                }
                const delay = yield* nextDelay(error)
                if (Option.isNone(delay)) return yield* failed("RetriesExhausted")
                stats.retries++
                emit(UploadEvent.Retrying({ error, op, offset, attempt: stats.attempt, delay: delay.value }))
                yield* Effect.sleep(delay.value)
                break
              }
              case "resign": {
                if (++resigns > maxResigns) return yield* failed("Terminal")
                stats.retries++
                yield* signer.invalidate
                break
              }
              case "resync": {
                if (resync === undefined || ++resyncs > maxResyncs) return yield* failed("Terminal")
                stats.retries++
                const done = yield* resync(error)
                if (Option.isSome(done)) return done.value
                break
              }
              default:
                return yield* failed("Terminal")
            }
            const result = yield* Effect.either(attempt)
            if (Either.isRight(result)) return result.right
            error = result.left
          }
        }))
    }

    const notFound = (e: CosError.CosError) => e._tag === "ServerError" && e.reason === "NotFound"
    // NotFound: gone already (e.g. a delete whose answer was lost, sent again)
    const deletePath = Effect.as(
      recovering("delete", undefined, Effect.catchIf(transport.remove(path), notFound, () => Effect.void)),
      true
    )

    const reader = yield* Effect.catchAll(source.open, (e) => terminal(e))
    const size = reader.size
    const receipt = (fields: {
      readonly access: Protocol.AccessInfo
      readonly sha1: string
      readonly simple: boolean
      readonly instant: boolean
      readonly resumed: boolean
      readonly integrity: UploadOptions.Integrity
      readonly verifiedBy: "server" | "stat"
      readonly sliceCount: number
    }) =>
      Effect.map(Clock.currentTimeMillis, (finishedAt): UploadReceipt => ({
        path,
        sha1: fields.sha1,
        fileSize: size,
        sliceSize: fields.simple ? size : state.sliceSize,
        session: state.session,
        sliceCount: fields.sliceCount,
        slicesSent: stats.slicesSent,
        slicesSkipped: stats.slicesSkipped,
        bytesSent: stats.bytesSent,
        bytesSkipped: stats.bytesSkipped,
        requests: stats.requests,
        retries: stats.retries,
        failures: [...stats.failures],
        instant: fields.instant,
        simple: fields.simple,
        resumed: fields.resumed,
        integrity: fields.integrity,
        verifiedBy: fields.verifiedBy,
        access: fields.access,
        startedAt,
        finishedAt,
        durationMillis: finishedAt - startedAt,
        hashingMillis: stats.hashingMillis,
        buffers: {
          count: state.pool?.count ?? 0,
          size: state.pool?.size ?? 0,
          peakInUse: state.pool?.peak() ?? 0,
          reused: state.pool?.reused ?? 0
        }
      }))
    const shrank = (buffer: Uint8Array, position: number, n: number) =>
      terminal(
        new CosError.SourceError({
          reason: "SizeMismatch",
          source: source.name,
          detail: `expected ${buffer.length} bytes at ${position}, read ${n}: the source shrank`
        }),
        position
      )
    // one read usually fills the buffer; `readFully` loops only after a short read
    const readExactly = (buffer: Uint8Array, position: number): Effect.Effect<void, CosError.CosError> =>
      Effect.matchEffect(reader.read(buffer, position), {
        onFailure: (e) => terminal(e, position),
        onSuccess: (n) => {
          if (n === buffer.length) return Effect.void
          if (n <= 0) return shrank(buffer, position, 0)
          return Effect.matchEffect(readFully(reader, buffer.subarray(n), position + n), {
            onFailure: (e) => terminal(e, position),
            onSuccess: (m) => n + m === buffer.length ? Effect.void : shrank(buffer, position, n + m)
          })
        }
      })

    /**
     * One `updateFileAsync` job (reading the file off the JavaScript thread, hashing, and with `into` keeping the
     * bytes). It cannot be cancelled: it is waited for even on interruption, so that no thread still writes into a
     * buffer going back to the pool, or reads a file descriptor about to be closed.
     */
    const fileJob = (
      update: (file: Sha1.FileRange, done: (result: Sha1.FileUpdate) => void) => void,
      file: Sha1.FileRange
    ): Effect.Effect<void, CosError.CosError> =>
      Effect.flatMap(
        Effect.uninterruptible(
          Effect.async<Sha1.FileUpdate>((resume) => update(file, (r) => resume(Effect.succeed(r))))
        ),
        (result) => {
          if (result.bytesRead === file.length) return Effect.void
          const at = file.position + result.bytesRead
          return terminal(
            new CosError.SourceError(
              result.errno !== 0
                ? { reason: "ReadFailed", source: source.name, detail: `read at ${at} failed (errno ${result.errno})` }
                : {
                  reason: "SizeMismatch",
                  source: source.name,
                  detail: `expected ${size} bytes, the file ended at ${at}: the source shrank`
                }
            ),
            at
          )
        }
      )

    // ---------------------------------------------------------------------------------------------------------
    // simple upload
    // ---------------------------------------------------------------------------------------------------------
    if (size <= Math.min(opts.simpleUploadThreshold, SlicePlan.maxSimpleUploadSize)) {
      const pool = yield* makePool(1, size, undefined)
      state.pool = pool
      return yield* withBuffer(pool, (buffer) =>
        Effect.gen(function*() {
          yield* readExactly(buffer.subarray(headRoom, headRoom + size), 0)
          const hasher = sha1.make()
          hasher.update(buffer.subarray(headRoom, headRoom + size))
          const sha = hasher.digest()
          emit(UploadEvent.Initialised({
            session: undefined,
            sliceSize: size,
            sliceCount: size === 0 ? 0 : 1,
            concurrency: 1,
            totalBytes: size,
            simple: true
          }))
          let leftoverRemoved = false
          const access = yield* recovering(
            "upload",
            0,
            Effect.suspend(() => {
              stats.bytesSent += size
              emit(UploadEvent.SliceSent({ offset: 0, length: size, bytesSent: stats.bytesSent }))
              return transport.uploadSimple({
                path,
                content: { buffer, start: headRoom, length: size },
                sha,
                bizAttr: opts.bizAttr,
                insertOnly: !opts.overwrite
              })
            }),
            // an unfinished sliced upload holds the path (-4019): with `overwrite` it goes, once, and the upload is
            // sent again; otherwise the upload ends
            (error) => {
              if (
                !opts.overwrite || leftoverRemoved ||
                !(error._tag === "ServerError" && error.reason === "UploadNotFinished")
              ) {
                // `recovering` has recorded this failure already
                return Effect.fail(failed("Terminal"))
              }
              leftoverRemoved = true
              return Effect.as(deletePath, Option.none())
            }
          )
          stats.slicesSent = size === 0 ? 0 : 1
          stats.bytesAcked = size
          emit(UploadEvent.SliceAcknowledged({ offset: 0, length: size, bytesAcknowledged: size, totalBytes: size }))
          const done = yield* receipt({
            access,
            sha1: sha,
            simple: true,
            instant: false,
            resumed: false,
            integrity: "sha-at-init",
            verifiedBy: "server",
            sliceCount: size === 0 ? 0 : 1
          })
          emit(UploadEvent.Completed({ receipt: done }))
          return done
        }))
    }

    // ---------------------------------------------------------------------------------------------------------
    // slice upload
    // ---------------------------------------------------------------------------------------------------------
    // a sequential source cannot be read twice: hash while sending
    const integrity: UploadOptions.Integrity = reader.randomAccess ? opts.integrity : "inline"
    const targetRecord: CheckpointStore.Target = {
      endpoint: cos.site ?? cos.endpoint,
      appId: cos.appId,
      bucket: cos.bucket,
      path
    }
    const key = CheckpointStore.key(targetRecord)
    yield* Effect.catchAll(store.lock(key), (e) => terminal(e))

    // source identity: size, mtime, digest of the first and last 64 KiB
    const identity: CheckpointStore.SourceIdentity = yield* Effect.gen(function*() {
      if (!reader.randomAccess || size === 0) {
        return reader.mtimeMs === undefined ? { size } : { size, mtimeMs: reader.mtimeMs }
      }
      const hasher = sha1.make()
      const head = new Uint8Array(Math.min(sampleSize, size))
      yield* readExactly(head, 0)
      hasher.update(head)
      const tailStart = Math.max(head.length, size - sampleSize)
      if (tailStart < size) {
        const tail = new Uint8Array(size - tailStart)
        yield* readExactly(tail, tailStart)
        hasher.update(tail)
      }
      const sample = hasher.digest()
      return reader.mtimeMs === undefined ? { size, sample } : { size, mtimeMs: reader.mtimeMs, sample }
    })
    // the content sample is required: a source that cannot be read twice (a stream) has none, and another stream
    // of the same size must not continue this one's slices
    const sameIdentity = (a: CheckpointStore.SourceIdentity) =>
      a.size === identity.size &&
      (a.mtimeMs === undefined || identity.mtimeMs === undefined || a.mtimeMs === identity.mtimeMs) &&
      identity.sample !== undefined && a.sample === identity.sample

    const loaded = yield* Effect.orElseSucceed(store.load(key), () => Option.none<CheckpointStore.Checkpoint>())
    const checkpoint = Option.filter(
      loaded,
      (c) => c.target.path === path && c.target.bucket === cos.bucket && c.target.appId === cos.appId
    )
    const trusted = Option.filter(
      checkpoint,
      (c) => sameIdentity(c.source) && c.integrity === integrity && c.fileSize === size
    )
    // a checkpoint of ours for other content: the unfinished upload on the server is ours to discard
    const stale = Option.isSome(checkpoint) && Option.isNone(trusted)

    const saveCheckpoint: Effect.Effect<void> = Effect.suspend(() => {
      const session = state.session
      if (session === undefined) return Effect.void
      stats.acksSinceSave = 0
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        store.save(key, {
          version: 1,
          target: targetRecord,
          source: identity,
          session,
          sliceSize: state.sliceSize,
          fileSize: size,
          ...(state.sha === undefined ? {} : { sha: state.sha }),
          integrity,
          acknowledged: Array.from(stats.acked),
          updatedAt: now
        })).pipe(
          Effect.catchAll((e) => Effect.logWarning("checkpoint not saved", e.message))
        )
    })

    const listSlices = recovering("upload_slice_list", undefined, transport.sliceList(path))
    // `delete` removes the path's unfinished upload and a stored file with it. Unless the caller allows the file
    // to go (`overwrite`), the unfinished upload is deleted only when stat describes it, not a stored file (a
    // `slicesize` and no access URL, or fewer bytes received than its size). Says whether the path is free of
    // it now (`NotFound`: it expired meanwhile).
    const isUnfinished = (stat: Protocol.StatData) =>
      (stat.slicesize !== undefined && stat.access_url === undefined) ||
      (stat.filesize !== undefined && stat.filelen !== undefined && stat.filelen < stat.filesize)
    const removeUnfinished = (overwrite: boolean): Effect.Effect<boolean, CosError.CosError> =>
      overwrite
        ? deletePath
        : Effect.flatMap(
          recovering(
            "stat",
            undefined,
            Effect.catchIf(transport.stat(path), notFound, () => Effect.succeed(undefined))
          ),
          (stat) => stat === undefined ? Effect.succeed(true) : isUnfinished(stat) ? deletePath : Effect.succeed(false)
        )

    let plan: SlicePlan.SlicePlan = { fileSize: size, sliceSize: state.sliceSize, count: 0 }
    const makePlan = (sliceSize: number) =>
      Effect.flatMap(SlicePlan.make(size, sliceSize), (p) => {
        plan = p
        state.sliceSize = sliceSize
        return Effect.void
      })

    const acknowledge = (offset: number, length: number, skipped: boolean): boolean => {
      if (stats.acked.has(offset)) return false
      stats.acked.add(offset)
      stats.bytesAcked += length
      if (skipped) {
        stats.bytesSkipped += length
        stats.slicesSkipped++
      } else {
        stats.slicesSent++
        stats.acksSinceSave++
        // progress: the shared retry budget starts over
        stats.scheduleState = schedule.initial
        stats.attempt = 0
        emit(UploadEvent.SliceAcknowledged({ offset, length, bytesAcknowledged: stats.bytesAcked, totalBytes: size }))
      }
      return true
    }
    // listed parts count when they fit the plan
    const adopt = (progress: Protocol.SliceProgress, skipped: boolean) => {
      state.session = progress.session
      let count = 0
      let bytes = 0
      for (const part of progress.listparts) {
        const expected = SlicePlan.expectedLength(plan, part.offset)
        if (expected !== undefined && expected === part.datalen && acknowledge(part.offset, part.datalen, skipped)) {
          count++
          bytes += part.datalen
        }
      }
      return { count, bytes }
    }

    // ---- hashing (sha-at-init) ----
    let uploadParts: ReadonlyArray<Sha1.UploadPart> | undefined
    const hashWhole = Effect.gen(function*() {
      const builder = yield* Sha1.uploadPartsBuilder(state.sliceSize, sha1.make)
      const updateFile = builder.updateFileAsync
      if (reader.fd !== undefined && updateFile !== undefined) {
        // one job per range reads and hashes off the JavaScript thread: no hand-off per slice
        const fd = reader.fd
        const range = Math.max(1, Math.floor(fileRangeBytes / state.sliceSize)) * state.sliceSize
        for (let position = 0; position < size; position += range) {
          const length = Math.min(range, size - position)
          yield* fileJob(updateFile, { fd, position, length })
          emit(UploadEvent.Hashing({ bytesHashed: position + length, totalBytes: size }))
        }
        uploadParts = builder.finish()
        state.sha = builder.sha()
        return
      }
      const pool = state.pool!
      const chunk = state.sliceSize
      // two buffers: the next chunk is read while the current one is hashed
      let pending: Fiber.RuntimeFiber<void, CosError.CosError> | undefined
      yield* withBuffer(pool, (a) =>
        withBuffer(pool, (b) =>
          Effect.gen(function*() {
            const pieceAt = (k: number, position: number) =>
              (k % 2 === 0 ? a : b).subarray(0, Math.min(chunk, size - position))
            const readAt = (k: number, position: number) =>
              position < size ? Effect.fork(readExactly(pieceAt(k, position), position)) : Effect.succeed(undefined)
            pending = yield* readAt(0, 0)
            for (let position = 0, k = 0; pending !== undefined; position += chunk, k++) {
              yield* Fiber.join(pending)
              pending = yield* readAt(k + 1, position + chunk)
              const piece = pieceAt(k, position)
              yield* hashAsync((done) => builder.updateAsync(piece, done))
              emit(UploadEvent.Hashing({ bytesHashed: position + piece.length, totalBytes: size }))
            }
          }).pipe(
            // on failure or interruption no read may still be writing into a buffer going back to the pool
            Effect.onExit(() => pending === undefined ? Effect.void : Fiber.interrupt(pending))
          )))
      uploadParts = builder.finish()
      state.sha = builder.sha()
    })

    // the pass before init: nothing is sent meanwhile (the receipt reports its duration)
    const hashFirst = Effect.gen(function*() {
      if (uploadParts !== undefined) return
      const hashStart = yield* Clock.currentTimeMillis
      yield* hashWhole
      stats.hashingMillis += (yield* Clock.currentTimeMillis) - hashStart
    })

    // ---- slices ----
    let concurrency = opts.concurrency
    const hasher = integrity === "inline" ? sha1.make() : undefined
    // a local file and a hasher that reads files: one job reads each slice into its buffer and hashes it
    const readFile = hasher?.updateFileAsync
    const readAndHash = reader.fd !== undefined && readFile !== undefined
      ? (file: Sha1.FileRange, done: (result: Sha1.FileUpdate) => void) => readFile.call(hasher, file, 0, done)
      : undefined

    // only our own session is continued: another upload that holds the path now may have other bytes
    const resyncSlice = (offset: number) => (error: CosError.CosError) =>
      Effect.flatMap(listSlices, (listed): Effect.Effect<Option.Option<void>, CosError.CosError> => {
        if (
          Option.isNone(listed) || !("session" in listed.value) || listed.value.session !== state.session ||
          listed.value.filesize !== size
        ) {
          return terminal(error, offset)
        }
        adopt(listed.value, false)
        return Effect.succeed(stats.acked.has(offset) ? Option.some(undefined) : Option.none())
      })

    const sendSlice = (slice: SlicePlan.Slice, buffer: Uint8Array) =>
      recovering(
        "upload_slice_data",
        slice.offset,
        Effect.suspend(() => {
          stats.bytesSent += slice.length
          emit(UploadEvent.SliceSent({ offset: slice.offset, length: slice.length, bytesSent: stats.bytesSent }))
          return Effect.asVoid(transport.sliceData({
            path,
            session: state.session!,
            offset: slice.offset,
            content: { buffer, start: headRoom, length: slice.length },
            sha: integrity === "sha-at-init" ? state.sha : undefined
          }))
        }),
        resyncSlice(slice.offset)
      ).pipe(
        Effect.flatMap(() => {
          acknowledge(slice.offset, slice.length, false)
          // geometric spacing keeps the total cost of saving the offsets linear in the file size
          return stats.acksSinceSave >= Math.max(checkpointEvery, stats.acked.size >> 3) ? saveCheckpoint : Effect.void
        })
      )

    // `concurrency + 1` workers, each with one pooled buffer: under a lock a worker takes the next index, reads the
    // slice into its buffer and hashes it (so reading and hashing follow slice order) and takes one of
    // `concurrency` send permits, then sends outside the lock. So `concurrency` requests stay in flight while the
    // next slice is read and hashed (pipeline.mjs's c + 1 buffers), and sends start in slice order (the server
    // sees a contiguous prefix). No per-slice fibers, Deferreds or buffer hand-offs (each costs CPU on the
    // client's one thread).
    const runSlices = (indices: ReadonlyArray<number>, hash: boolean) =>
      Effect.suspend(() => {
        const pool = state.pool!
        const lock = Effect.unsafeMakeSemaphore(1)
        const sending = Effect.unsafeMakeSemaphore(concurrency)
        let next = 0
        const worker = (buffer: Uint8Array): Effect.Effect<void, CosError.CosError> => {
          // the next slice, and whether it is to be sent (then holding a send permit)
          const take = lock.withPermits(1)(Effect.suspend(() => {
            if (next >= indices.length) return Effect.succeed(undefined)
            const slice = SlicePlan.slice(plan, indices[next++]!)
            const content = buffer.subarray(headRoom, headRoom + slice.length)
            const prepared = !hash || hasher === undefined
              ? readExactly(content, slice.offset)
              : readAndHash !== undefined
              ? fileJob(readAndHash, { fd: reader.fd!, position: slice.offset, length: slice.length, into: content })
              : Effect.zipRight(readExactly(content, slice.offset), hashInto(hasher, content))
            return Effect.flatMap(prepared, () =>
              stats.acked.has(slice.offset)
                ? Effect.succeed({ slice, send: false })
                : Effect.as(sending.take(1), { slice, send: true }))
          }))
          const loop: Effect.Effect<void, CosError.CosError> = Effect.flatMap(take, (taken) =>
            taken === undefined
              ? Effect.void
              : !taken.send
              ? loop
              : Effect.flatMap(Effect.ensuring(sendSlice(taken.slice, buffer), sending.release(1)), () => loop))
          return loop
        }
        const workers = Math.min(concurrency + 1, indices.length)
        return Effect.all(
          Array.from({ length: workers }, () => Effect.acquireUseRelease(pool.take, worker, pool.release)),
          { concurrency: Math.max(1, workers), discard: true }
        )
      })

    const missing = () => SlicePlan.missing(plan, stats.acked).map((s) => s.index)

    // ---- the flow, with cancellation/failure handling ----
    const flow = Effect.gen(function*() {
      state.pool = yield* makePool(opts.concurrency + 1, state.sliceSize, buffers)
      yield* makePlan(state.sliceSize)
      let resumed: Protocol.SliceProgress | undefined
      if (Option.isSome(trusted)) {
        if (trusted.value.sha !== undefined && integrity === "sha-at-init") state.sha = trusted.value.sha
        const listed = yield* listSlices
        if (
          Option.isSome(listed) && "session" in listed.value && listed.value.session === trusted.value.session &&
          listed.value.filesize === size
        ) resumed = listed.value
      }
      if (resumed !== undefined && integrity === "sha-at-init" && state.sha === undefined) yield* hashFirst
      let instant: Protocol.AccessInfo | undefined
      if (resumed === undefined) {
        state.sha = undefined
        if (integrity === "sha-at-init") yield* hashFirst
        let discarded = false
        for (let round = 0; resumed === undefined && instant === undefined; round++) {
          if (round >= 3) return yield* failed("Terminal")
          const init = yield* recovering(
            "upload_slice_init",
            undefined,
            transport.sliceInit({
              path,
              fileSize: size,
              sliceSize: state.sliceSize,
              sha: state.sha,
              uploadParts: uploadParts !== undefined && uploadParts.length > 0 ? uploadParts : undefined,
              bizAttr: opts.bizAttr,
              insertOnly: !opts.overwrite
            }).pipe(
              Effect.map(Either.right),
              Effect.catchIf(
                (e) => e._tag === "ServerError" && e.reason === "UploadNotFinished",
                (e) =>
                  Effect.sync(() => {
                    stats.failures.push(CosError.toAttemptFailure(e))
                    stats.retries++
                    return Either.left(e)
                  })
              )
            )
          )
          if (Either.isRight(init)) {
            const data = init.right
            if ("session" in data) {
              state.session = data.session
              if (data.serial_upload === 1) concurrency = 1
              if (data.slice_size !== state.sliceSize) {
                yield* makePlan(data.slice_size)
                state.pool = yield* makePool(opts.concurrency + 1, data.slice_size, buffers)
              }
              break
            }
            instant = data
            break
          }
          // -4019: an unfinished upload exists for the path; the server is the truth
          const listed = yield* listSlices
          if (Option.isNone(listed) || !("session" in listed.value)) continue
          const progress = listed.value
          // Its slices are continued only when they are known to be this source's: the same size and the same
          // SHA-1 (the server checks the parts against it). Without a SHA-1 to compare (inline mode, or a session
          // made without one) its slices may hold other bytes of the same size, and finishing would store a mix. A
          // session this client made and checkpointed was trusted above. A session with no slices yet (e.g. made by
          // an init of ours whose answer was lost, or by another upload that just started: one of two uploads to a
          // path has to lose) holds nothing: it is deleted and init sent again, rather than shared.
          const listedSha = stripSuffix(progress.sha)
          const same = progress.filesize === size && state.sha !== undefined && listedSha === state.sha
          if (same) {
            resumed = progress
            break
          }
          // at most once per upload: uploads racing for one path must not delete each other's sessions forever
          if ((progress.listparts.length === 0 || stale || opts.overwrite) && !discarded) {
            discarded = true
            // a stale upload of ours beside a stored file the caller did not allow to replace: fails below
            if (yield* removeUnfinished(opts.overwrite)) continue
          }
          return yield* terminal(
            new CosError.SourceError({
              reason: "Changed",
              source: source.name,
              detail: progress.filesize !== size || (state.sha !== undefined && listedSha !== undefined)
                ? `an unfinished upload of other content (size ${progress.filesize}) exists at ${path}; pass overwrite: true to replace it`
                : `an unfinished upload of the same size exists at ${path}, but nothing shows it holds this source's bytes (no checkpoint of it here, no SHA-1 to compare); pass overwrite: true to replace it${
                  listedSha !== undefined
                    ? `, or upload with integrity "sha-at-init" to continue it if it has this SHA-1`
                    : ""
                }`
            })
          )
        }
      }

      if (instant !== undefined) {
        yield* Effect.orElseSucceed(store.remove(key), () => undefined)
        emit(UploadEvent.Initialised({
          session: undefined,
          sliceSize: state.sliceSize,
          sliceCount: plan.count,
          concurrency,
          totalBytes: size,
          simple: false
        }))
        stats.bytesAcked = size
        const done = yield* receipt({
          access: instant,
          sha1: state.sha!,
          simple: false,
          instant: true,
          resumed: false,
          integrity,
          verifiedBy: "server",
          sliceCount: plan.count
        })
        emit(UploadEvent.Completed({ receipt: done }))
        return done
      }

      if (resumed !== undefined) {
        state.session = resumed.session
        if (resumed.serial_upload === 1) concurrency = 1
        if (resumed.slice_size !== state.sliceSize) {
          if (integrity === "sha-at-init" && state.sha === undefined) yield* hashFirst
          yield* makePlan(resumed.slice_size)
          state.pool = yield* makePool(opts.concurrency + 1, resumed.slice_size, buffers)
        }
      }
      emit(UploadEvent.Initialised({
        session: state.session,
        sliceSize: state.sliceSize,
        sliceCount: plan.count,
        concurrency,
        totalBytes: size,
        simple: false
      }))
      if (resumed !== undefined) {
        const skipped = adopt(resumed, true)
        emit(
          UploadEvent.Resumed({ session: resumed.session, skippedSlices: skipped.count, skippedBytes: skipped.bytes })
        )
      }
      yield* saveCheckpoint

      // inline mode reads every slice (to hash it) and sends the missing ones
      // the slice phase runs without spans (per-request tracing costs CPU; the upload keeps its one span)
      yield* Effect.withTracerEnabled(
        runSlices(
          integrity === "inline" ? plan.count === 0 ? [] : SlicePlan.slices(plan).map((s) => s.index) : missing(),
          true
        ),
        false
      )

      emit(UploadEvent.Finishing({ bytesAcknowledged: stats.bytesAcked, totalBytes: size }))
      const sha = integrity === "inline" ? hasher!.digest() : state.sha!
      state.sha = sha
      // A finish whose answer was lost may have completed the upload: the retry then finds no session.
      // The server's stat decides: the same size and sha mean the file is stored intact.
      let verifiedByStat = false
      const finishedAnyway = (error: CosError.CosError) =>
        Effect.flatMap(
          recovering("stat", undefined, transport.stat(path)),
          (stat): Effect.Effect<Option.Option<Protocol.AccessInfo>, CosError.CosError> =>
            stat.filesize === size && stripSuffix(stat.sha) === sha
              ? Effect.as(
                Effect.sync(() => (verifiedByStat = true)),
                Option.some({
                  access_url: stat.access_url ?? "",
                  resource_path: `/${cos.appId}/${cos.bucket}${path}`,
                  source_url: stat.source_url ?? "",
                  url: CosPath.url(cos.endpoint, cos.appId, cos.bucket, path),
                  ...(stat.preview_url === undefined ? {} : { preview_url: stat.preview_url })
                })
              )
              : terminal(error)
        )
      const resyncFinish = (error: CosError.CosError) =>
        Effect.flatMap(listSlices, (listed): Effect.Effect<Option.Option<Protocol.AccessInfo>, CosError.CosError> => {
          // a stored file may be ours (a finish whose answer was lost) or anybody's: its size and sha decide
          if (Option.isNone(listed) || !("session" in listed.value)) return finishedAnyway(error)
          const value = listed.value
          if (value.session !== state.session || value.filesize !== size) return terminal(error)
          adopt(value, false)
          const todo = missing()
          if (todo.length === 0) return Effect.succeedNone
          if (!reader.randomAccess) {
            return terminal(
              new CosError.SourceError({
                reason: "ReadFailed",
                source: source.name,
                detail: `the server lost ${todo.length} slice(s) and a stream source cannot be read again`
              })
            )
          }
          return Effect.as(runSlices(todo, false), Option.none())
        })
      const access = yield* recovering(
        "upload_slice_finish",
        undefined,
        transport.sliceFinish({
          path,
          session: state.session!,
          fileSize: size,
          sha: integrity === "sha-at-init" ? sha : undefined
        }),
        resyncFinish
      )
      if (integrity === "inline") {
        const stat = yield* recovering("stat", undefined, transport.stat(path))
        const stored = stripSuffix(stat.sha)
        if (stored !== sha) {
          return yield* terminal(
            new CosError.SourceError({
              reason: "Changed",
              source: source.name,
              detail: `the stored sha ${stored ?? "(none)"} differs from the sha of what was read, ${sha}`
            })
          )
        }
      }
      yield* Effect.orElseSucceed(store.remove(key), () => undefined)
      const done = yield* receipt({
        access,
        sha1: sha,
        simple: false,
        instant: false,
        resumed: resumed !== undefined,
        integrity,
        verifiedBy: integrity === "inline" || verifiedByStat ? "stat" : "server",
        sliceCount: plan.count
      })
      emit(UploadEvent.Completed({ receipt: done }))
      return done
    })

    return yield* flow.pipe(
      Effect.onExit((exit) => {
        if (Exit.isSuccess(exit)) return Effect.void
        if (Cause.isInterruptedOnly(exit.cause) && opts.cancelPolicy === "discard") {
          return Effect.gen(function*() {
            // one attempt each, no retries (this runs after an interruption): only our own session, and never a
            // stored file beside it (a cancelled upload replaces nothing, even with `overwrite`)
            const ours = state.session
            if (ours !== undefined) {
              yield* Effect.ignore(Effect.gen(function*() {
                const listed = yield* transport.sliceList(path)
                if (Option.isNone(listed) || !("session" in listed.value) || listed.value.session !== ours) return
                const stat = yield* transport.stat(path)
                if (isUnfinished(stat)) yield* transport.remove(path)
              }))
            }
            yield* Effect.ignore(store.remove(key))
          })
        }
        return saveCheckpoint
      })
    )
  })

/** @internal */
export const uploadWithProgress = <R>(
  source: UploadSource.UploadSource<R>,
  target: string,
  options: UploadOptions.UploadOptions | undefined,
  capacity: number
): Stream.Stream<UploadEvent, CosError.CosError, Requirements | R> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    // intermediate events slide (a slow consumer never slows the upload); the terminal one is offered last,
    // so it is never the one dropped
    const queue = yield* Queue.sliding<UploadEvent | Exit.Exit<UploadReceipt, CosError.CosError>>(capacity)
    yield* upload(source, target, options, (event) => {
      if (event._tag !== "Completed") Queue.unsafeOffer(queue, event)
    }).pipe(
      Effect.exit,
      Effect.flatMap((exit) => Queue.offer(queue, exit)),
      Effect.forkScoped
    )
    return Stream.fromQueue(queue).pipe(
      Stream.takeUntil(Exit.isExit),
      Stream.mapEffect((item) =>
        Exit.isExit(item)
          ? Effect.map(item, (receipt): UploadEvent => UploadEvent.Completed({ receipt }))
          : Effect.succeed(item)
      )
    )
  }))
