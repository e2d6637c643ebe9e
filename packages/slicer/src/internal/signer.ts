import * as CosPath from "@cos-v4/core/CosPath"
import * as Signature from "@cos-v4/core/Signature"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type * as Redacted from "effect/Redacted"
import { CosConfig } from "../CosConfig.js"
import type { Options, Signer, SignRequest } from "../Signer.js"

interface Cached {
  readonly sign: Redacted.Redacted<string>
  readonly expiresAt: number
}

/** @internal */
export const make = (
  credentials: Signature.Credentials,
  options?: Options
): Effect.Effect<Signer.Service, never, CosConfig> =>
  Effect.gen(function*() {
    const cos = yield* CosConfig
    const lifetime = Math.max(2, Math.floor(options?.lifetimeSeconds ?? 300))
    const margin = Math.min(lifetime - 1, Math.max(0, Math.floor(options?.refreshMarginSeconds ?? 60)))
    // a plain variable, not a Ref: signing runs once per request, and fibers interleave only at yield points
    let cached: Cached | undefined
    const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))
    const rand = Random.nextIntBetween(0, 1_000_000_000)
    const fresh = (now: number) =>
      Effect.map(rand, (r) => {
        const expiresAt = now + lifetime
        const sign = Signature.signMulti({ credentials, bucket: cos.bucket, expiresAt, now, rand: r })
        cached = { sign, expiresAt }
        return sign
      })
    const multi = Effect.clockWith((clock) => {
      const now = Math.floor(clock.unsafeCurrentTimeMillis() / 1000)
      const c = cached
      return c !== undefined && now < c.expiresAt - margin ? Effect.succeed(c.sign) : fresh(now)
    })
    const sign = (request: SignRequest) =>
      request.once
        ? Effect.gen(function*() {
          const now = yield* nowSeconds
          return Signature.signOnce({
            credentials,
            bucket: cos.bucket,
            fileId: CosPath.fileId(credentials.appId, cos.bucket, request.path),
            now,
            rand: yield* rand
          })
        })
        : multi
    return {
      sign,
      invalidate: Effect.sync(() => {
        cached = undefined
      })
    } satisfies Signer.Service
  })
