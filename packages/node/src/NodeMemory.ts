/**
 * Process-wide memory settings for programs that upload: a small young generation, and full collections before
 * the old generation has grown far past its live size.
 *
 * - V8 grows the young generation (two semi-spaces) each time enough objects have survived collections since
 *   the last growth, up to 2 × 16 MiB, and shrinks it only once the process allocates slowly. During the first GiB
 *   a fresh process uploads, while V8 compiles the code paths, about 0.8 MB survives each minor collection (in
 *   steady state about 50 KB does), so the young generation reaches its maximum within seconds: about 30 MiB more
 *   resident memory than the upload needs, most of it garbage.
 * - V8 lets the old generation grow up to 4 × its live size before a full collection.
 *
 * Bounded (young generation at its initial 1–2 MiB, the old one collected at 1.5 × its live size), the client's
 * peak RSS drops by 20–35 MiB (docs/benchmarks.md), for more frequent but smaller collections.
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
