/**
 * @internal
 */
import * as Effect from "effect/Effect"
import * as v8 from "node:v8"
import type * as NodeMemory from "../NodeMemory.js"

/** @internal */
export const defaults: Required<NodeMemory.Options> = {
  growYoungGeneration: false,
  oldGenerationGrowthPercent: 50
}

/** @internal */
export const unsafeBound = (options: NodeMemory.Options = {}): void => {
  const percent = options.oldGenerationGrowthPercent ?? defaults.oldGenerationGrowthPercent
  if (!Number.isInteger(percent) || percent < 1 || percent > 1000) {
    throw new RangeError(`oldGenerationGrowthPercent must be an integer from 1 to 1000, got ${percent}`)
  }
  // both flags are read by V8 each time it sizes a space, so they apply to a running process
  if (!(options.growYoungGeneration ?? defaults.growYoungGeneration)) {
    v8.setFlagsFromString("--semi-space-growth-factor=1")
  }
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`)
}

/** @internal */
export const bound = (options?: NodeMemory.Options): Effect.Effect<void> => Effect.sync(() => unsafeBound(options))
