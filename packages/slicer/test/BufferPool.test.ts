import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as BufferPool from "../src/BufferPool.js"
import * as Uploader from "../src/Uploader.js"
import * as UploadSource from "../src/UploadSource.js"
import * as Fake from "./fakeServer.js"

const S = 1024
const sliceOpts = { sliceSize: S, simpleUploadThreshold: 0, concurrency: 2 } as const

describe("BufferPool", () => {
  it.effect("take reuses what give kept, most recent first, and counts both", () =>
    Effect.gen(function*() {
      const pool = yield* BufferPool.make({ maxIdleBytes: 10_000 })
      const first = yield* pool.take(3, 1000)
      assert.strictEqual(first.reused, 0)
      assert.deepStrictEqual(first.buffers.map((b) => b.length), [1000, 1000, 1000])
      yield* pool.give(first.buffers)
      const second = yield* pool.take(4, 1000)
      assert.strictEqual(second.reused, 3)
      assert.deepStrictEqual(second.buffers.slice(0, 3), [...first.buffers].reverse())
      assert.notInclude(first.buffers, second.buffers[3])
      // another size never gets these
      yield* pool.give(second.buffers)
      const other = yield* pool.take(2, 999)
      assert.strictEqual(other.reused, 0)
      assert.deepStrictEqual(yield* pool.stats, { created: 6, reused: 3, idleBuffers: 4, idleBytes: 4000 })
    }))

  it.effect("keeps at most maxIdleBytes, dropping the oldest; a buffer given twice is kept once", () =>
    Effect.gen(function*() {
      const pool = yield* BufferPool.make({ maxIdleBytes: 2500 })
      const { buffers } = yield* pool.take(3, 1000)
      yield* pool.give([buffers[0]!, buffers[1]!, buffers[1]!])
      assert.strictEqual((yield* pool.stats).idleBuffers, 2)
      yield* pool.give([buffers[2]!])
      const stats = yield* pool.stats
      assert.strictEqual(stats.idleBuffers, 2)
      assert.strictEqual(stats.idleBytes, 2000)
      const again = yield* pool.take(3, 1000)
      assert.strictEqual(again.reused, 2)
      assert.notInclude(again.buffers, buffers[0])
    }))

  it.effect("maxIdleBytes 0 keeps nothing; a negative one is a defect", () =>
    Effect.gen(function*() {
      const pool = yield* BufferPool.make({ maxIdleBytes: 0 })
      yield* pool.give((yield* pool.take(2, 10)).buffers)
      assert.strictEqual((yield* pool.take(2, 10)).reused, 0)
      const exit = yield* Effect.exit(BufferPool.make({ maxIdleBytes: -1 }))
      assert.isTrue(Exit.isFailure(exit) && Option.isSome(Exit.causeOption(exit)))
    }))

  it.effect.prop(
    "never hands out a buffer twice, never keeps more than maxIdleBytes, and counts what it keeps",
    [
      FastCheck.integer({ min: 0, max: 5000 }),
      FastCheck.array(
        FastCheck.oneof(
          FastCheck.record({
            take: FastCheck.integer({ min: 1, max: 4 }),
            size: FastCheck.constantFrom(100, 700, 1500)
          }),
          FastCheck.record({ give: FastCheck.integer({ min: 0, max: 6 }) })
        ),
        { maxLength: 40 }
      )
    ],
    ([maxIdleBytes, ops]) =>
      Effect.gen(function*() {
        const pool = yield* BufferPool.make({ maxIdleBytes })
        const held: Array<Uint8Array> = []
        let taken = 0
        for (const op of ops) {
          if ("take" in op) {
            const { buffers } = yield* pool.take(op.take, op.size)
            for (const b of buffers) {
              assert.strictEqual(b.length, op.size)
              assert.notInclude(held, b, "handed out while held")
            }
            held.push(...buffers)
            taken += op.take
          } else {
            yield* pool.give(held.splice(0, op.give))
          }
          const stats = yield* pool.stats
          assert.isAtMost(stats.idleBytes, maxIdleBytes)
          assert.strictEqual(stats.created + stats.reused, taken)
        }
      })
  )
})

describe("BufferPool with the uploader", () => {
  const upload = (server: Fake.FakeServer, pool: BufferPool.BufferPool.Service, path: string) =>
    Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(6 * S + 7)), path, sliceOpts).pipe(
      Effect.provide(Fake.layer(server)),
      Effect.provideService(BufferPool.BufferPool, pool)
    )

  it.effect("an upload after another reuses its buffers", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const pool = yield* BufferPool.make()
      const first = yield* upload(server, pool, "/a")
      assert.deepStrictEqual(first.buffers, { count: 3, size: first.buffers.size, peakInUse: 3, reused: 0 })
      assert.strictEqual((yield* pool.stats).idleBuffers, 3)
      const second = yield* upload(server, pool, "/b")
      assert.strictEqual(second.buffers.reused, 3)
      assert.deepStrictEqual(yield* pool.stats, {
        created: 3,
        reused: 3,
        idleBuffers: 3,
        idleBytes: 3 * first.buffers.size
      })
      assert.deepStrictEqual(server.files.get("/b")!.bytes, Fake.bytes(6 * S + 7))
    }))

  it.effect("buffers in use when an upload is interrupted or fails are not given back", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const pool = yield* BufferPool.make()
      server.fault = (r) =>
        r.op === "upload_slice_data" && r.fields.offset === String(2 * S) ? { _tag: "never" } : undefined
      const fiber = yield* Effect.fork(upload(server, pool, "/i"))
      while (!server.sentOffsets().includes(2 * S)) yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      // every worker held its buffer when the upload was interrupted
      assert.strictEqual((yield* pool.stats).idleBuffers, 0)

      server.fault = (r) =>
        r.op === "upload_slice_data" && r.fields.offset === String(S)
          ? { _tag: "code", reason: "InvalidParameter" }
          : undefined
      const failed = yield* Effect.exit(upload(server, pool, "/f"))
      assert.isTrue(Exit.isFailure(failed))
      assert.strictEqual((yield* pool.stats).idleBuffers, 0)
    }))

  it.effect("a simple upload does not use the pool", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const pool = yield* BufferPool.make()
      const receipt = yield* Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(100)), "/s").pipe(
        Effect.provide(Fake.layer(server)),
        Effect.provideService(BufferPool.BufferPool, pool)
      )
      assert.isTrue(receipt.simple)
      assert.deepStrictEqual(yield* pool.stats, { created: 0, reused: 0, idleBuffers: 0, idleBytes: 0 })
    }))
})
