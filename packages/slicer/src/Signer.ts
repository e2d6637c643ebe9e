/**
 * Request signing as a swappable service. `layer` signs locally with the secret key (multi-effect
 * signatures are cached and re-made when they near or pass their expiry; single-effect ones are made per
 * request); `layerFromFunction` lets an application fetch signatures from its own server instead of
 * holding the secret key.
 *
 * @since 0.1.0
 */
import type { Op, SigningError } from "@cos-v4/core/CosError"
import type { CosPath } from "@cos-v4/core/CosPath"
import type { Credentials } from "@cos-v4/core/Signature"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import { CosConfig } from "./CosConfig.js"
import * as internal from "./internal/signer.js"

/**
 * What a signature is for. `once` asks for a single-effect signature (`e = 0`, bound to `path`): delete,
 * update, move. Otherwise a multi-effect one is wanted (it may be shared between requests).
 *
 * @since 0.1.0
 * @category models
 */
export interface SignRequest {
  readonly op: Op
  readonly path: CosPath
  readonly once: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace Signer {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    readonly sign: (request: SignRequest) => Effect.Effect<Redacted.Redacted<string>, SigningError>
    /** Drops any cached signature, so the next `sign` makes a fresh one (after a `resign` failure). */
    readonly invalidate: Effect.Effect<void>
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Signer extends Context.Tag("@cos-v4/slicer/Signer")<Signer, Signer.Service>() {}

/**
 * Options of the local signer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Lifetime of multi-effect signatures, seconds (default 300, like py/java). */
  readonly lifetimeSeconds?: number | undefined
  /** A cached multi-effect signature is re-made this many seconds before it expires (default 60). */
  readonly refreshMarginSeconds?: number | undefined
}

/**
 * A local signer over the credentials; time from `Clock`, nonces from `Random`. Multi-effect signatures
 * are unbound (`f` empty), cached, and re-made when fewer than `refreshMarginSeconds` remain.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  credentials: Credentials,
  options?: Options
) => Effect.Effect<Signer.Service, never, CosConfig> = internal.make

/**
 * A signer backed by a function (e.g. a call to the application's signing endpoint). `invalidate` is a no-op
 * unless given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFunction = (
  sign: (request: SignRequest) => Effect.Effect<Redacted.Redacted<string>, SigningError>,
  invalidate: Effect.Effect<void> = Effect.void
): Signer.Service => ({ sign, invalidate })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (credentials: Credentials, options?: Options): Layer.Layer<Signer, never, CosConfig> =>
  Layer.effect(Signer, make(credentials, options))

/**
 * The local signer with the SecretId and SecretKey read from `Config` (defaults `COS_SECRET_ID`,
 * `COS_SECRET_KEY`, the key as `Redacted`); the appid comes from `CosConfig`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<{ readonly secretId: string; readonly secretKey: Redacted.Redacted<string> }> = {
    secretId: Config.string("COS_SECRET_ID"),
    secretKey: Config.redacted("COS_SECRET_KEY")
  },
  options?: Options
): Layer.Layer<Signer, ConfigError.ConfigError, CosConfig> =>
  Layer.effect(
    Signer,
    Effect.gen(function*() {
      const { secretId, secretKey } = yield* Config.unwrap(config)
      const cos = yield* CosConfig
      return yield* make({ appId: cos.appId, secretId, secretKey }, options)
    })
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const layerFromFunction = (
  sign: (request: SignRequest) => Effect.Effect<Redacted.Redacted<string>, SigningError>,
  invalidate?: Effect.Effect<void>
): Layer.Layer<Signer> => Layer.succeed(Signer, fromFunction(sign, invalidate))
