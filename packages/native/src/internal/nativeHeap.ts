/**
 * glibc `mallopt` through the addon (see addon/allocator.c).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as NativeHeap from "../NativeHeap.js"
import * as Addon from "./addon.js"

const MiB = 1024 * 1024

/** @internal */
export const defaults: Required<NativeHeap.Options> = {
  trimThreshold: 32 * MiB,
  mmapThreshold: 4 * MiB,
  topPad: 1 * MiB
}

/** @internal */
export const unsafeRetainFreed = (options: NativeHeap.Options = {}): boolean => {
  const loaded = Addon.binding()
  if (Either.isLeft(loaded) || typeof loaded.right.retainFreedHeap !== "function") return false
  return loaded.right.retainFreedHeap(
    options.trimThreshold ?? defaults.trimThreshold,
    options.mmapThreshold ?? defaults.mmapThreshold,
    options.topPad ?? defaults.topPad
  )
}

/** @internal */
export const retainFreed = (options?: NativeHeap.Options): Effect.Effect<boolean> =>
  Effect.sync(() => unsafeRetainFreed(options))
