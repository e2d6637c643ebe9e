/**
 * A file source over `node:fs` with positional reads (`FileHandle.read(buffer, 0, length, position)`): no
 * seek, no lock, so concurrent slice reads never serialise on a cursor. The handle is closed with the
 * upload's scope.
 *
 * @since 0.1.0
 */
import { SourceError } from "@cos-v4/core/CosError"
import type * as UploadSource from "@cos-v4/slicer/UploadSource"
import * as Effect from "effect/Effect"
import * as FsP from "node:fs/promises"

const code = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "code" in u && typeof u.code === "string" ? u.code : undefined

/**
 * The file at `path` as an upload source (its size and mtime are taken when it is opened).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFile = (path: string): UploadSource.UploadSource => ({
  name: path,
  open: Effect.gen(function*() {
    const handle = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => FsP.open(path, "r"),
        catch: (cause) =>
          new SourceError({
            reason: code(cause) === "ENOENT" ? "NotFound" : code(cause) === "EISDIR" ? "NotAFile" : "ReadFailed",
            source: path,
            detail: `cannot open: ${String(cause)}`,
            cause
          })
      }),
      (h) => Effect.promise(() => h.close())
    )
    const info = yield* Effect.tryPromise({
      try: () => handle.stat(),
      catch: (cause) => new SourceError({ reason: "ReadFailed", source: path, detail: "cannot stat", cause })
    })
    if (!info.isFile()) {
      return yield* new SourceError({ reason: "NotAFile", source: path, detail: "not a regular file" })
    }
    const reader: UploadSource.Reader = {
      size: info.size,
      mtimeMs: info.mtimeMs,
      randomAccess: true,
      fd: handle.fd,
      read: (into, position) =>
        Effect.tryPromise({
          try: () => handle.read(into, 0, into.length, position).then((r) => r.bytesRead),
          catch: (cause) =>
            new SourceError({ reason: "ReadFailed", source: path, detail: `read at ${position} failed`, cause })
        })
    }
    return reader
  })
})
