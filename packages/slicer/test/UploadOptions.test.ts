import * as CosError from "@cos-v4/core/CosError"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as UploadOptions from "../src/UploadOptions.js"

const error = new CosError.TransportError({ reason: "Reset", op: "upload_slice_data", detail: "reset" })

/**
 * The delays the default schedule chooses before each retry for 12 failures in a row, with the given random seed
 * (`Schedule.run` also returns the output of the step that ends the schedule: dropped).
 */
const delays = (seed: number) =>
  Schedule.run(Schedule.delays(UploadOptions.defaultRetrySchedule), 0, Array.from({ length: 12 }, () => error)).pipe(
    Effect.map((out) => Chunk.toReadonlyArray(out).slice(0, -1).map(Duration.toMillis)),
    Effect.withRandom(Random.make(seed))
  )

describe("defaultRetrySchedule", () => {
  it.effect("exponential from 200 ms, each delay jittered within 80–120 %, capped at 10 s, 8 retries", () =>
    Effect.gen(function*() {
      for (const seed of [1, 2, 3]) {
        const ms = yield* delays(seed)
        assert.strictEqual(ms.length, 8)
        ms.forEach((d, i) => {
          const base = 200 * 2 ** i
          assert.isAtLeast(d, Math.min(base * 0.8, 10_000), `retry ${i + 1}: ${d} ms`)
          assert.isAtMost(d, Math.min(base * 1.2, 10_000), `retry ${i + 1}: ${d} ms`)
        })
      }
    }))

  it.effect("the jitter is kept: delays differ from the bare exponential and between seeds", () =>
    Effect.gen(function*() {
      const a = yield* delays(1)
      const b = yield* delays(2)
      assert.notDeepEqual(a.slice(0, 5), [200, 400, 800, 1600, 3200])
      assert.notDeepEqual(a, b)
    }))
})
