/**
 * Persistence of upload progress. The server's `upload_slice_list` is the truth; a checkpoint only saves
 * work (re-hashing, a list round trip) and detects that the local source changed since the upload started.
 *
 * Records are keyed by the *target* (`key(target)`: endpoint, appid, bucket, path): one upload drives a target
 * at a time (`lock`), and the record carries the source identity, which the uploader compares before
 * trusting it. A record that cannot be decoded reads as `None`, never as an error.
 *
 * @since 0.1.0
 */
import type { CheckpointError } from "@cos-v4/core/CosError"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/checkpointStore.js"

/**
 * What identifies the local source: its size, its modification time when known, and a digest of content
 * samples (SHA-1 of the first and last 64 KiB, when the source allows random access).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SourceIdentity = Schema.Struct({
  size: Schema.Number,
  mtimeMs: Schema.optional(Schema.Number),
  sample: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type SourceIdentity = typeof SourceIdentity.Type

/**
 * Where an upload goes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Target = Schema.Struct({
  endpoint: Schema.String,
  appId: Schema.String,
  bucket: Schema.String,
  path: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type Target = typeof Target.Type

/**
 * A checkpoint record (version 1). `acknowledged` lists the offsets of slices the server acknowledged.
 * `updatedAt` is epoch milliseconds (from `Clock`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Checkpoint = Schema.Struct({
  version: Schema.Literal(1),
  target: Target,
  source: SourceIdentity,
  session: Schema.String,
  sliceSize: Schema.Number,
  fileSize: Schema.Number,
  sha: Schema.optional(Schema.String),
  integrity: Schema.Literal("sha-at-init", "inline"),
  acknowledged: Schema.Array(Schema.Number),
  updatedAt: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type Checkpoint = typeof Checkpoint.Type

/**
 * The record as JSON text (for stores that write files or key-value entries).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CheckpointFromJson: Schema.Schema<Checkpoint, string> = Schema.parseJson(Checkpoint)

/**
 * The store key of a target: `"<endpoint>|<appId>|<bucket>|<path>"` (stores that need file names hash it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const key = (target: Target): string => `${target.endpoint}|${target.appId}|${target.bucket}|${target.path}`

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace CheckpointStore {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** The record under `key`; `None` when there is none or it is corrupt (torn, edited, other version). */
    readonly load: (key: string) => Effect.Effect<Option.Option<Checkpoint>, CheckpointError>
    readonly save: (key: string, checkpoint: Checkpoint) => Effect.Effect<void, CheckpointError>
    /** Removes the record; removing a missing record succeeds. */
    readonly remove: (key: string) => Effect.Effect<void, CheckpointError>
    /**
     * Holds `key` exclusively until the scope closes; fails with reason `Locked` when another holder
     * (fiber or process) has it.
     */
    readonly lock: (key: string) => Effect.Effect<void, CheckpointError, Scope.Scope>
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class CheckpointStore extends Context.Tag("@cos-v4/slicer/CheckpointStore")<
  CheckpointStore,
  CheckpointStore.Service
>() {}

/**
 * An in-memory store (records are kept encoded as JSON, as a persistent store would).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<CheckpointStore.Service> = internal.makeMemory

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CheckpointStore> = Layer.effect(CheckpointStore, makeMemory)

/**
 * A store that remembers nothing (every upload starts by asking the server); `lock` always succeeds.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNoop: Layer.Layer<CheckpointStore> = Layer.succeed(CheckpointStore, internal.noop)
