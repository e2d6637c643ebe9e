/**
 * Process-wide memory settings for programs that upload: a small young generation, and full collections before
 * the old generation has grown far past its live size.
 *
 * - V8 doubles the young generation (two semi-spaces) each time as many bytes have survived minor collections
 *   since the last growth as it holds, up to 2 × 16 MiB, and shrinks it only once the process allocates slowly.
 *   An upload's survivors are its in-flight requests (about 50 KB per collection) and, until V8 has optimized
 *   effect's code, some of effect's own objects (0.3–0.4 MB per collection for a few seconds after start, and again
 *   whenever V8 drops optimized code: once counters pass 2 GiB, or when it revises an allocation-site pretenuring
 *   decision). So the young generation stays at 2 × 8 MiB through the first GiBs of uploads and reaches 2 × 16 MiB
 *   after several: 16 MiB more resident memory, most of it garbage.
 * - V8 lets the old generation grow up to 4 × its live size before a full collection.
 *
 * Bounded (young generation at its initial 1–2 MiB, the old one collected at 1.5 × its live size), the client's
 * peak RSS is lower and grows less with the amount uploaded (docs/benchmarks.md), for more frequent but smaller
 * collections.
 *
 * The settings belong to the whole process (V8 flags, applied at once): an app opts in; the library never does.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/nodeMemory.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** let V8 grow the young generation as it does by default (default `false`) */
  readonly growYoungGeneration?: boolean
  /**
   * how far the old generation may grow past its live size before a full collection, in % (V8's
   * `--heap-growing-percent`; default 50, an integer from 1 to 1000)
   */
  readonly oldGenerationGrowthPercent?: number
}

/**
 * The settings used when `Options` leaves them out.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Required<Options> = internal.defaults

/**
 * Applies the settings to this process at once. Throws a `RangeError` for an invalid percentage.
 *
 * @since 0.1.0
 * @category unsafe
 */
export const unsafeBound: (options?: Options) => void = internal.unsafeBound

/**
 * `unsafeBound` as an Effect, e.g. at the start of a program's main effect (an invalid percentage is a defect).
 *
 * @since 0.1.0
 * @category constructors
 */
export const bound: (options?: Options) => Effect.Effect<void> = internal.bound
