import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"

/** Runs an effect to its end, advancing the TestClock by `step` whenever it waits (no real sleeping). */
export const drive = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  step: string = "100 millis",
  maxSteps = 100_000
): Effect.Effect<Exit.Exit<A, E>, never, R> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < maxSteps; i++) {
      // let the fiber run as far as it can without time passing
      for (let k = 0; k < 20; k++) yield* Effect.yieldNow()
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return done.value
      yield* TestClock.adjust(step as "100 millis")
    }
    return yield* Fiber.await(fiber)
  })
