/**
 * Process-wide memory settings for programs that upload: keep V8's young generation at its initial size.
 *
 * V8 grows the young generation (two semi-spaces) each time enough objects have survived collections since the
 * last growth, up to 2 × 16 MiB, and an upload's in-flight requests survive a few collections each. So a long
 * upload ends with about 30 MiB more resident memory than it started with, most of it garbage. Bounded, the young
 * generation stays at 1–2 MiB: the client's peak RSS drops by about 30 MiB (docs/benchmarks.md), for slightly more
 * frequent (and cheaper) scavenges.
 *
 * The setting belongs to the whole process (a V8 flag, applied at once): an app opts in, `cos` does, the library
 * never does.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/nodeMemory.js"

/**
 * Stops V8 from growing the young generation of this process from now on.
 *
 * @since 0.1.0
 * @category unsafe
 */
export const unsafeBoundYoungGeneration: () => void = internal.unsafeBoundYoungGeneration

/**
 * `unsafeBoundYoungGeneration` as an Effect, e.g. at the start of a program's main effect.
 *
 * @since 0.1.0
 * @category constructors
 */
export const boundYoungGeneration: Effect.Effect<void> = internal.boundYoungGeneration
