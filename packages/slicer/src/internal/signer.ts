import * as CosPath from "@cos-v4/core/CosPath"
import * as Signature from "@cos-v4/core/Signature"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
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
    const cache = yield* Ref.make<Cached | undefined>(undefined)
    const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))
    const rand = Random.nextIntBetween(0, 1_000_000_000)
    const multi = Effect.gen(function*() {
      const now = yield* nowSeconds
      const cached = yield* Ref.get(cache)
      if (cached !== undefined && now < cached.expiresAt - margin) return cached.sign
      const expiresAt = now + lifetime
      const sign = Signature.signMulti({ credentials, bucket: cos.bucket, expiresAt, now, rand: yield* rand })
      yield* Ref.set(cache, { sign, expiresAt })
      return sign
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
    return { sign, invalidate: Ref.set(cache, undefined) } satisfies Signer.Service
  })
