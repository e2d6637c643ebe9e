/**
 * The C heap of a server process: keep freed memory instead of handing it back to the kernel.
 *
 * Node's HTTP parser copies each request body chunk (up to 64 KiB) into a newly `malloc`'ed buffer. With
 * glibc's default trim threshold, the freed top of the heap goes back to the kernel after each request, and the
 * next request faults it in again: in the emulator, about 190 page faults and 0.1–0.3 ms of kernel time per
 * 1 MiB slice. `retainFreed` sets glibc's trim threshold, mmap threshold and top pad (`mallopt`) through the
 * addon, so that memory is reused.
 *
 * These settings belong to the whole process: programs call this for themselves (the emulator's bin and `cos`
 * do); the library never does. It does nothing, and answers `false`, without glibc or without the addon.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/nativeHeap.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** freed memory at the top of the heap kept before it is handed back (default 32 MiB) */
  readonly trimThreshold?: number
  /** blocks at least this large get their own mapping instead of heap memory (default 4 MiB) */
  readonly mmapThreshold?: number
  /** extra bytes requested each time the heap grows (default 1 MiB) */
  readonly topPad?: number
}

/**
 * The settings used when `Options` leaves them out.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Required<Options> = internal.defaults

/**
 * Applies the settings to this process at once; `true` when glibc accepted all three.
 *
 * @since 0.1.0
 * @category unsafe
 */
export const unsafeRetainFreed: (options?: Options) => boolean = internal.unsafeRetainFreed

/**
 * `unsafeRetainFreed` as an Effect.
 *
 * @since 0.1.0
 * @category constructors
 */
export const retainFreed: (options?: Options) => Effect.Effect<boolean> = internal.retainFreed
