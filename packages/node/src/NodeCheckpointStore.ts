/**
 * The crash-safe file layer of the slicer's `CheckpointStore`: one JSON file per key in a directory.
 *
 * - File names are a hash of the key (`<sha256(key)[0..40]>.json`): no key text reaches the file system.
 * - Writes are atomic and durable: a temporary file is written and fsync'ed, renamed over the record, and the
 *   directory is fsync'ed. A crash leaves either the old record or the new one. `fsync: false` keeps the atomic
 *   rename but skips both fsyncs: a process crash still leaves a whole record (the page cache survives it); after
 *   an OS crash or power loss the record may be lost or torn, which reads as `None` (the upload then resumes
 *   from the server's slice list). Each fsync commits the file system's journal, which on ext4 (`data=ordered`)
 *   also writes back every other dirty file: with a busy disk (e.g. a local emulator on the same disk) a save
 *   can take tens of milliseconds, and the uploader saves about 26 times per 1024 slices.
 * - Each file carries a SHA-256 digest over the key and the record text: a torn, truncated or hand-edited
 *   file (or one for another key) reads as `None`, never as an error.
 * - `lock(key)` creates `<stem>.lock` exclusively (`O_EXCL`), containing the holder's pid, hostname and start
 *   time, for the caller's `Scope`; it is removed on release. A second holder, in this process or another one,
 *   fails with `CheckpointError` reason `Locked`. A lock left by a process that died (same host, pid gone, or
 *   the pid now belongs to a process that started later) is taken over; a lock from another host is never
 *   taken over.
 *
 * @since 0.1.0
 */
import * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/nodeCheckpointStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** fsync records, lock files and the directory (default `true`); see the module notes. */
  readonly fsync?: boolean | undefined
}

/**
 * A store over `directory` (created on first write, mode 0700).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  directory: string,
  options?: Options
) => Effect.Effect<CheckpointStore.CheckpointStore.Service> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (directory: string, options?: Options): Layer.Layer<CheckpointStore.CheckpointStore> =>
  Layer.effect(CheckpointStore.CheckpointStore, internal.make(directory, options))

/**
 * The default directory: `$XDG_CACHE_HOME/cos-v4/checkpoints`, or `~/.cache/cos-v4/checkpoints`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultDirectory: () => string = internal.defaultDirectory
