/**
 * What an upload reads from. A source is a description; `open` (scoped) yields a reader with the size,
 * what is known of its identity, and `read(into, position)`, which fills `into` with the bytes at `position`
 * and returns how many it wrote (fewer only at the end of the source).
 *
 * - `fromFile`: random access over `@effect/platform` `FileSystem` (scoped open, positional reads).
 * - `fromUint8Array`: random access over bytes in memory.
 * - `fromStream`: a `Stream<Uint8Array>` of a known size, read in order. It is *sequential*: reads must come
 *   at non-decreasing positions (a forward jump skips bytes). A stream upload is never continued from a
 *   checkpoint (nothing identifies its content before it is read): a rerun starts over. A slice that must be
 *   re-read after it was released fails with `SourceError` (`ReadFailed`).
 *
 * @since 0.1.0
 */
import type { SourceError } from "@cos-v4/core/CosError"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/uploadSource.js"

/**
 * An opened source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reader {
  readonly size: number
  /** Modification time, epoch milliseconds, when known. */
  readonly mtimeMs: number | undefined
  /** `false` for streams: `read` must then be called at non-decreasing positions. */
  readonly randomAccess: boolean
  readonly read: (into: Uint8Array, position: number) => Effect.Effect<number, SourceError>
  /**
   * The open file's descriptor, when the source is a local file that stays open as long as the reader: a
   * `Sha1` hasher with `updateFileAsync` then reads and hashes it off the JavaScript thread (the `sha-at-init`
   * pre-pass in ranges, each `inline` slice into its buffer). Leave it out otherwise.
   */
  readonly fd?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface UploadSource<R = never> {
  /** A human-readable name (a path, `"<memory>"`, `"<stream>"`), used in errors. */
  readonly name: string
  readonly open: Effect.Effect<Reader, SourceError, Scope.Scope | R>
}

/**
 * A file on the `FileSystem` in context. The size and mtime are taken when it is opened.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFile: (path: string) => UploadSource<FileSystem.FileSystem> = internal.fromFile

/**
 * Bytes in memory (not copied).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromUint8Array: (bytes: Uint8Array, name?: string) => UploadSource = internal.fromUint8Array

/**
 * A stream whose total size is known up front. A stream that ends early or runs long fails the upload with
 * `SourceError` (`SizeMismatch`); a stream error becomes `SourceError` (`ReadFailed`) with the cause kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromStream: <E, R>(
  stream: Stream.Stream<Uint8Array, E, R>,
  size: number,
  name?: string
) => UploadSource<R> = internal.fromStream

/**
 * Reads until `into` is full or the source ends; returns the number of bytes read.
 *
 * @since 0.1.0
 * @category combinators
 */
export const readFully: (reader: Reader, into: Uint8Array, position: number) => Effect.Effect<number, SourceError> =
  internal.readFully
