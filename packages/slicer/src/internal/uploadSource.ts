import { SourceError } from "@cos-v4/core/CosError"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { Reader, UploadSource } from "../UploadSource.js"

const platformError = (source: string, what: string) => (cause: { readonly _tag: string; readonly reason?: string }) =>
  new SourceError({
    reason: cause._tag === "SystemError" && cause.reason === "NotFound" ? "NotFound" : "ReadFailed",
    source,
    detail: what,
    cause
  })

/** @internal */
export const fromFile = (path: string): UploadSource<FileSystem.FileSystem> => ({
  name: path,
  open: Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = yield* Effect.mapError(fs.open(path, { flag: "r" }), platformError(path, "cannot open"))
    const info = yield* Effect.mapError(file.stat, platformError(path, "cannot stat"))
    if (info.type !== "File") {
      return yield* new SourceError({ reason: "NotAFile", source: path, detail: `a ${info.type}, not a file` })
    }
    // `seek` + `read` must not interleave between concurrent readers.
    const lock = yield* Effect.makeSemaphore(1)
    const onError = platformError(path, "read failed")
    const read = (into: Uint8Array, position: number): Effect.Effect<number, SourceError> =>
      lock.withPermits(1)(
        Effect.flatMap(
          file.seek(position, "start"),
          () => Effect.mapBoth(file.read(into), { onFailure: onError, onSuccess: Number })
        )
      )
    return {
      size: Number(info.size),
      mtimeMs: Option.getOrUndefined(Option.map(info.mtime, (d) => d.getTime())),
      randomAccess: true,
      read
    } satisfies Reader
  })
})

/** @internal */
export const fromUint8Array = (bytes: Uint8Array, name = "<memory>"): UploadSource => ({
  name,
  open: Effect.succeed({
    size: bytes.length,
    mtimeMs: undefined,
    randomAccess: true,
    read: (into, position) =>
      Effect.sync(() => {
        const end = Math.min(bytes.length, position + into.length)
        if (end <= position) return 0
        into.set(bytes.subarray(position, end))
        return end - position
      })
  })
})

/** @internal */
export const fromStream = <E, R>(
  stream: Stream.Stream<Uint8Array, E, R>,
  size: number,
  name = "<stream>"
): UploadSource<R> => ({
  name,
  open: Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const rawPull = yield* Stream.toPull(stream)
    const fail = (reason: "ReadFailed" | "SizeMismatch", detail: string, cause?: unknown) =>
      new SourceError(cause === undefined ? { reason, source: name, detail } : { reason, source: name, detail, cause })
    // `Some(chunk)`, or `None` at the end of the stream
    const pull: Effect.Effect<Option.Option<Chunk.Chunk<Uint8Array>>, SourceError> = rawPull.pipe(
      Effect.map(Option.some),
      Effect.catchAll(Option.match({
        onNone: () => Effect.succeedNone,
        onSome: (cause) => Effect.fail(fail("ReadFailed", "the stream failed", cause))
      })),
      Effect.provide(context)
    )
    let consumed = 0 // bytes of the stream handed out or skipped
    let pending: Array<Uint8Array> = []
    let ended = false
    const next: Effect.Effect<Uint8Array | undefined, SourceError> = Effect.suspend(() => {
      const head = pending.shift()
      if (head !== undefined) return Effect.succeed(head)
      if (ended) return Effect.succeed(undefined)
      return Effect.flatMap(pull, (chunk) => {
        if (Option.isNone(chunk)) {
          ended = true
          return Effect.succeed(undefined)
        }
        pending = Array.from(chunk.value).filter((c) => c.length > 0)
        return next
      })
    })
    const read = (into: Uint8Array, position: number): Effect.Effect<number, SourceError> =>
      Effect.gen(function*() {
        if (position < consumed) {
          return yield* fail("ReadFailed", `a stream source cannot go back from ${consumed} to ${position}`)
        }
        let written = 0
        while (written < into.length || consumed < position) {
          const bytes = yield* next
          if (bytes === undefined) break
          let piece = bytes
          if (consumed < position) {
            const skip = Math.min(position - consumed, piece.length)
            consumed += skip
            piece = piece.subarray(skip)
          }
          if (piece.length === 0) continue
          const take = Math.min(piece.length, into.length - written)
          into.set(piece.subarray(0, take), written)
          written += take
          consumed += take
          if (take < piece.length) pending.unshift(piece.subarray(take))
        }
        if (consumed > size) return yield* fail("SizeMismatch", `the stream is longer than ${size} bytes`)
        if (consumed === size) {
          const extra = yield* next
          if (extra !== undefined) return yield* fail("SizeMismatch", `the stream is longer than ${size} bytes`)
        }
        return written
      })
    return { size, mtimeMs: undefined, randomAccess: false, read } satisfies Reader
  })
})

/** @internal */
export const readFully = (reader: Reader, into: Uint8Array, position: number): Effect.Effect<number, SourceError> =>
  Effect.gen(function*() {
    let done = 0
    while (done < into.length) {
      const n = yield* reader.read(into.subarray(done), position + done)
      if (n <= 0) break
      done += n
    }
    return done
  })
