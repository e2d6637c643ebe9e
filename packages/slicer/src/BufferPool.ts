/**
 * Slice buffers shared by the uploads of a program. Each sliced upload takes its `concurrency + 1` buffers from
 * the pool and gives them back when it ends, so a program that uploads one file after another reuses the same
 * few MiB instead of allocating a new set per upload. (Each set lives as long as its upload, so V8 moves it to
 * the old generation, where it stays, garbage, until the next full collection: a process that uploaded ten
 * large files could hold ten dead sets.)
 *
 * - Idle buffers are kept up to `maxIdleBytes` (default 8 MiB: one set of the default options, 5 × 1 MiB); the
 *   oldest idle ones are dropped first when more come back.
 * - A buffer whose use ended in a failure or an interruption is never given back: a read abandoned by an
 *   interruption may still be writing into it.
 * - Simple uploads (one buffer of the file's size) do not use the pool.
 *
 * `BufferPool` is a `Context.Reference`: without a layer, every upload of the process shares one default pool.
 * `layer({ maxIdleBytes: 0 })` keeps nothing (every upload allocates, as without a pool); tests can provide
 * their own pool to look at its `stats`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/bufferPool.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the most bytes of idle buffers kept for later uploads (default 8 MiB; 0 keeps none) */
  readonly maxIdleBytes?: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** buffers made by `take` because no idle one of the size was there */
  readonly created: number
  /** buffers handed out again by `take` */
  readonly reused: number
  readonly idleBuffers: number
  readonly idleBytes: number
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace BufferPool {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    readonly maxIdleBytes: number
    /**
     * `count` buffers of `size` bytes, idle ones first (the most recently given back), new ones for the rest;
     * `reused` says how many were idle. They belong to the caller until given back.
     */
    readonly take: (
      count: number,
      size: number
    ) => Effect.Effect<{ readonly buffers: ReadonlyArray<Uint8Array>; readonly reused: number }>
    /**
     * Gives buffers back for later `take`s. The caller must no longer use them, nor may anything (a read, a
     * hashing job) still write into them. Buffers beyond `maxIdleBytes` are dropped, oldest first.
     */
    readonly give: (buffers: ReadonlyArray<Uint8Array>) => Effect.Effect<void>
    readonly stats: Effect.Effect<Stats>
  }
}

/**
 * The pool the uploads of a region of a program share. Its default value is one pool per process with the
 * default options.
 *
 * @since 0.1.0
 * @category references
 */
export class BufferPool extends Context.Reference<BufferPool>()("@cos-v4/slicer/BufferPool", {
  defaultValue: (): BufferPool.Service => internal.unsafeMake()
}) {}

/**
 * The idle bytes kept when `Options` leaves `maxIdleBytes` out: 8 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxIdleBytes: number = internal.defaultMaxIdleBytes

/**
 * A new pool. A negative or non-integer `maxIdleBytes` is a defect.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<BufferPool.Service> = internal.make

/**
 * A new pool for the uploads run with this layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<BufferPool> => Layer.effect(BufferPool, make(options))
