/**
 * Storage of the emulator: metadata (objects, directories, sessions, received slices, attributes, single-use
 * signatures) in SQLite through `@effect/sql-sqlite-node`, bytes in files named by server-chosen ids. `layerDisk`
 * keeps both under a data directory (WAL journal, transactions, one positional write per slice, atomic rename
 * at finish, startup reconciliation); `layerMemory` keeps metadata in an in-memory SQLite and bytes in memory.
 *
 * @since 0.1.0
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import * as blobs from "./internal/blobs.js"
import * as internal from "./internal/storage.js"
import { StorageError } from "./internal/storageError.js"

export {
  /**
   * A failure of the emulator's storage (database or files).
   *
   * @since 0.1.0
   * @category errors
   */
  StorageError
}

/**
 * A stored file or directory.
 *
 * @since 0.1.0
 * @category models
 */
export type ObjectRecord = internal.ObjectRecord

/**
 * An unfinished slice upload.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionRecord = internal.SessionRecord

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace EmulatorStorage {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service extends internal.Store {}
}

/**
 * The storage service.
 *
 * @since 0.1.0
 * @category tags
 */
export class EmulatorStorage extends Context.Tag("@cos-v4/emulator/EmulatorStorage")<
  EmulatorStorage,
  EmulatorStorage.Service
>() {}

/**
 * Options of the disk storage.
 *
 * @since 0.1.0
 * @category models
 */
export interface DiskOptions {
  readonly dataDir: string
  /**
   * `fdatasync` every slice, object and metadata commit (the SQLite WAL) before acknowledging it (default
   * `false`). Without it, everything acknowledged survives a crash or `kill -9` of the emulator process (the
   * bytes were handed to the kernel with `write` and sit in the OS page cache; SQLite runs in WAL mode with
   * `synchronous=NORMAL`, whose commits are likewise in the WAL file before the answer), but not an OS crash or
   * a power loss. With `true` the acknowledged state also survives those; the syncs run in libuv's thread pool
   * and are shared by concurrent requests (group commit).
   */
  readonly fsync?: boolean | undefined
}

/**
 * Disk storage under `dataDir`: `meta.sqlite` (WAL), `sessions/<id>`, `objects/<id>`, `tmp/`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisk = (options: DiskOptions): Layer.Layer<EmulatorStorage, StorageError> => {
  const fsync = options.fsync ?? false
  return Layer.effect(
    EmulatorStorage,
    Effect.flatMap(
      blobs.disk(options.dataDir, { fsync }),
      (b) => internal.make(b, { walFile: fsync ? path.join(options.dataDir, "meta.sqlite-wal") : undefined })
    )
  ).pipe(
    Layer.provide(
      Layer.suspend(() => SqliteClient.layer({ filename: path.join(options.dataDir, "meta.sqlite") })).pipe(
        Layer.mapError((e) => new StorageError({ reason: "Sql", detail: String(e), cause: e }))
      )
    ),
    Layer.provide(Layer.effectDiscard(blobs.disk(options.dataDir, { fsync })))
  )
}

/**
 * In-memory storage (metadata in an in-memory SQLite database, bytes in memory), for tests.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<EmulatorStorage, StorageError> = Layer.effect(
  EmulatorStorage,
  Effect.suspend(() => internal.make(blobs.memory(), { walFile: undefined }))
).pipe(
  Layer.provide(
    SqliteClient.layer({ filename: ":memory:", disableWAL: true }).pipe(
      Layer.mapError((e) => new StorageError({ reason: "Sql", detail: String(e), cause: e }))
    )
  )
)
