/**
 * @internal
 */
import * as Effect from "effect/Effect"
import * as v8 from "node:v8"

/** @internal */
export const unsafeBoundYoungGeneration = (): void => {
  // read by V8 each time it considers growing the new space, so it applies to a running process
  v8.setFlagsFromString("--semi-space-growth-factor=1")
}

/** @internal */
export const boundYoungGeneration: Effect.Effect<void> = Effect.sync(unsafeBoundYoungGeneration)
