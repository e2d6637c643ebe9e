import * as Effect from "effect/Effect"
import type * as BufferPool from "../BufferPool.js"

/** @internal */
export const defaultMaxIdleBytes = 8 * 1024 * 1024

/** @internal */
export const unsafeMake = (options?: BufferPool.Options): BufferPool.BufferPool.Service => {
  const maxIdleBytes = options?.maxIdleBytes ?? defaultMaxIdleBytes
  if (!Number.isSafeInteger(maxIdleBytes) || maxIdleBytes < 0) {
    throw new RangeError(`BufferPool: maxIdleBytes must be a non-negative integer, got ${maxIdleBytes}`)
  }
  // idle buffers, oldest first; a handful at most, so linear scans are cheapest
  const idle: Array<Uint8Array> = []
  let idleBytes = 0
  let created = 0
  let reused = 0
  return {
    maxIdleBytes,
    take: (count, size) =>
      Effect.sync(() => {
        const buffers: Array<Uint8Array> = []
        for (let i = idle.length - 1; i >= 0 && buffers.length < count; i--) {
          const b = idle[i]!
          if (b.length !== size) continue
          idle.splice(i, 1)
          idleBytes -= b.length
          buffers.push(b)
        }
        const fromIdle = buffers.length
        while (buffers.length < count) buffers.push(new Uint8Array(size))
        reused += fromIdle
        created += count - fromIdle
        return { buffers, reused: fromIdle }
      }),
    give: (buffers) =>
      Effect.sync(() => {
        for (const b of buffers) {
          // a buffer given twice would be handed to two uploads at once
          if (b.length > maxIdleBytes || idle.includes(b)) continue
          idle.push(b)
          idleBytes += b.length
        }
        while (idleBytes > maxIdleBytes) idleBytes -= idle.shift()!.length
      }),
    stats: Effect.sync(() => ({ created, reused, idleBuffers: idle.length, idleBytes }))
  }
}

/** @internal */
export const make = (options?: BufferPool.Options): Effect.Effect<BufferPool.BufferPool.Service> =>
  Effect.sync(() => unsafeMake(options))
