/**
 * A native SHA-1: OpenSSL's `SHA1_Update` (SHA-NI where the CPU has it, the same code `node:crypto` runs)
 * through a tiny N-API addon built from `addon/` by `pnpm install`, with the chaining state read straight out of
 * the `SHA_CTX` (for `uploadparts` and checkpoints), and `updateAsync`, which hashes on a thread of its own so
 * the JavaScript thread stays free for I/O. Falls back to core's pure-TypeScript SHA-1 when the addon is missing.
 *
 * @since 0.1.0
 */
import type * as Sha1 from "@cos-v4/core/Sha1"
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as internal from "./internal/nativeSha1.js"

/**
 * The OpenSSL-backed implementation (service name `"openssl"`), or why it is unavailable. The addon is loaded
 * (and self-tested against the §3.4 vector) on the first call only.
 *
 * @since 0.1.0
 * @category services
 */
export const native: () => Either.Either<Sha1.Sha1.Service, string> = internal.native

/**
 * The native implementation when available, otherwise `Sha1.pure` (logged once at debug level).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Sha1.Sha1.Service> = internal.service

/**
 * Provides core's `Sha1` service with the native implementation, or the pure-TypeScript one as a fallback.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Sha1.Sha1> = internal.layer
