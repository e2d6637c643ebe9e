/**
 * The COS v4 request signature (protocol.md §6): signing with explicit or Clock/Random-driven time
 * and nonce, parsing (any field order), and the verification rules an emulator applies.
 *
 * `sign = Base64(HMAC-SHA1(SecretKey, plain) ‖ plain)` with
 * `plain = "a=<appid>&k=<SecretId>&e=<expiry>&t=<now>&r=<rand>&f=<fileid>&b=<bucket>"`.
 * Multi-effect signatures have `e > now`; single-effect ones have `e = 0` and name one resource in `f`.
 * HMAC-SHA1 is implemented in TypeScript here, so this module runs anywhere `effect` runs.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { CosPath } from "./CosPath.js"
import * as internal from "./internal/signature.js"

/**
 * Why a signature was refused.
 *
 * - `Malformed`: not base64, 20 bytes or fewer, plain text not UTF-8, a missing or duplicate field,
 *   `e`/`t` not decimal integers.
 * - `UnknownSecretId`: `k` is not a known SecretId.
 * - `BadMac`: the HMAC does not match (wrong key or tampered plain text).
 * - `Expired`: a multi-effect signature with `e + clockSkew ≤ now`.
 * - `NotYetValid`: strict mode only, `t > now + clockSkew`.
 * - `AppIdMismatch`, `BucketMismatch`: `a`/`b` differ from the request's appid/bucket.
 * - `ResourceMismatch`: `f` (decoded) does not cover the requested resource.
 * - `SingleUseRequired`: strict mode, a multi-effect signature on a delete/update.
 * - `MultiUseRequired`: strict mode, a single-effect signature on an operation that needs multi-effect.
 * - `LifetimeTooLong`: `e − t` exceeds the allowed lifetime (90 days in strict mode by default).
 *
 * @since 0.1.0
 * @category errors
 */
export const SignatureErrorReason: Schema.Literal<typeof internal.reasons> = Schema.Literal(...internal.reasons)

/**
 * @since 0.1.0
 * @category errors
 */
export type SignatureErrorReason = typeof SignatureErrorReason.Type

/**
 * A signature that cannot be parsed or does not authorise the request. Carries no secret material
 * (neither the key nor the signature itself).
 *
 * @since 0.1.0
 * @category errors
 */
export class SignatureError extends Schema.TaggedError<SignatureError>("@cos-v4/core/SignatureError")(
  "SignatureError",
  {
    reason: SignatureErrorReason,
    detail: Schema.optional(Schema.String)
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Signature refused: ${this.reason}${this.detail === undefined ? "" : ` (${this.detail})`}`
  }
}

const toError = (issue: internal.Issue): SignatureError => new SignatureError(issue)

/**
 * Account credentials: the appid, the SecretId (`k`) and the SecretKey (HMAC key).
 *
 * @since 0.1.0
 * @category models
 */
export const Credentials = Schema.Struct({
  appId: Schema.String,
  secretId: Schema.String,
  secretKey: Schema.Redacted(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Credentials extends Schema.Schema.Type<typeof Credentials> {}

/**
 * `multi`: reusable until `e` (uploads, slice ops, stat, list, create). `single`: `e = 0`, one use,
 * bound to one resource (delete, update).
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "multi" | "single"

/**
 * The fields of the plain text. `e` and `t` are Unix seconds; `f` is kept as sent (percent-encoded).
 *
 * @since 0.1.0
 * @category models
 */
export type Fields = internal.Fields

/**
 * A decoded signature: the 20-byte MAC, the plain text and its fields. `kind` is `single` iff `e = 0`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParsedSignature {
  readonly mac: Uint8Array
  readonly plain: string
  readonly fields: Fields
  readonly kind: Kind
}

/**
 * The plain text in the order used by the py/java/cpp/net/js SDKs: `a,k,e,t,r,f,b`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const plainText: (fields: internal.PlainFields) => string = internal.plainText

/**
 * Signs an arbitrary plain text: `Base64(HMAC-SHA1(secretKey, plain) ‖ plain)`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const signPlainText = (secretKey: Redacted.Redacted<string>, plain: string): Redacted.Redacted<string> =>
  Redacted.make(internal.signPlain(Redacted.value(secretKey), plain))

/**
 * @since 0.1.0
 * @category models
 */
export interface SignMultiOptions {
  readonly credentials: Credentials
  readonly bucket: string
  /** Expiry, Unix seconds (must be after `now`). */
  readonly expiresAt: number
  /** Current time, Unix seconds. */
  readonly now: number
  /** Nonce; the SDKs use an unsigned decimal of up to 10 digits. */
  readonly rand: number | string
  /** Encoded fileid (`CosPath.fileId`) to bind the signature to; `""` (default) for an unbound one. */
  readonly fileId?: string | undefined
}

/**
 * A multi-effect signature with explicit time and nonce.
 *
 * @since 0.1.0
 * @category constructors
 */
export const signMulti = (options: SignMultiOptions): Redacted.Redacted<string> =>
  signPlainText(
    options.credentials.secretKey,
    internal.plainText({
      a: options.credentials.appId,
      k: options.credentials.secretId,
      e: options.expiresAt,
      t: options.now,
      r: options.rand,
      f: options.fileId ?? "",
      b: options.bucket
    })
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface SignOnceOptions {
  readonly credentials: Credentials
  readonly bucket: string
  /** Encoded fileid of the one resource (`CosPath.fileId`). */
  readonly fileId: string
  /** Current time, Unix seconds. */
  readonly now: number
  readonly rand: number | string
}

/**
 * A single-effect signature (`e = 0`) with explicit time and nonce.
 *
 * @since 0.1.0
 * @category constructors
 */
export const signOnce = (options: SignOnceOptions): Redacted.Redacted<string> =>
  signPlainText(
    options.credentials.secretKey,
    internal.plainText({
      a: options.credentials.appId,
      k: options.credentials.secretId,
      e: 0,
      t: options.now,
      r: options.rand,
      f: options.fileId,
      b: options.bucket
    })
  )

/**
 * Options of `sign`. Multi-effect signatures live `lifetime` (default 300 seconds, like py/java).
 *
 * @since 0.1.0
 * @category models
 */
export type SignOptions =
  | {
    readonly kind: "multi"
    readonly credentials: Credentials
    readonly bucket: string
    readonly fileId?: string | undefined
    readonly lifetime?: Duration.DurationInput | undefined
  }
  | {
    readonly kind: "single"
    readonly credentials: Credentials
    readonly bucket: string
    readonly fileId: string
  }

/**
 * The default lifetime of multi-effect signatures made by `sign`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLifetime: Duration.Duration = Duration.seconds(300)

/**
 * Signs with the current time from `Clock` (`t`, whole seconds) and a nonce from `Random`
 * (`r` in 0…999 999 999).
 *
 * @since 0.1.0
 * @category constructors
 */
export const sign: (options: SignOptions) => Effect.Effect<Redacted.Redacted<string>> = Effect.fn("Signature.sign")(
  function*(options: SignOptions) {
    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const rand = yield* Random.nextIntBetween(0, 1_000_000_000)
    if (options.kind === "single") {
      return signOnce({ credentials: options.credentials, bucket: options.bucket, fileId: options.fileId, now, rand })
    }
    const lifetime = Math.max(1, Math.ceil(Duration.toSeconds(options.lifetime ?? defaultLifetime)))
    return signMulti({
      credentials: options.credentials,
      bucket: options.bucket,
      fileId: options.fileId,
      expiresAt: now + lifetime,
      now,
      rand
    })
  }
)

/**
 * Decodes a signature: base64 (standard alphabet; missing `=` padding tolerated), more than 20 bytes,
 * UTF-8 plain text of `&`-separated `key=value` pairs in any order (split on the first `=` only),
 * fields `a,k,e,t,r,f,b` all present exactly once, `e`/`t` decimal. Unknown keys are ignored.
 * Does not check the MAC (see `verify`).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (sign: string): Either.Either<ParsedSignature, SignatureError> =>
  Either.mapLeft(internal.parse(sign), toError)

/**
 * Options of `verify`.
 *
 * @since 0.1.0
 * @category models
 */
export interface VerifyOptions {
  /** The signature as received (`Authorization`, or the `sign` query parameter percent-decoded once). */
  readonly sign: string
  readonly lookupKey: (secretId: string) => Option.Option<Redacted.Redacted<string>>
  /** Appid and bucket of the request URL. */
  readonly appId: string
  readonly bucket: string
  /** The requested resource, decoded (e.g. from `CosPath.parseRequestPath`). */
  readonly resourcePath: CosPath
  /** What the operation requires: `single` for delete/update, `multi` for everything else. */
  readonly opKind: Kind
  /** Server time, Unix seconds. */
  readonly now: number
  /**
   * `lenient` (default) accepts what official SDKs send even where the doc says otherwise: multi-effect
   * signatures on delete/update (wx demo, js move/copy), single-effect ones elsewhere. `strict` refuses
   * both, refuses `t` in the future and caps the lifetime at 90 days unless `maxLifetimeSeconds` is set.
   */
  readonly mode?: "lenient" | "strict" | undefined
  /** Maximum `e − t` of multi-effect signatures. Default: none (lenient), 90 days (strict). */
  readonly maxLifetimeSeconds?: number | undefined
  /** Allowance added to `e` (expiry) and, in strict mode, to `now` for the `t` check. Default 0. */
  readonly clockSkewSeconds?: number | undefined
  /**
   * Skip the expiry check of multi-effect signatures (php/cpp/net reuse one signature for a whole
   * slice upload, possibly past its expiry, protocol.md §7).
   */
  readonly ignoreExpiry?: boolean | undefined
}

const lookup = (options: VerifyOptions) => (secretId: string): string | undefined =>
  Option.getOrUndefined(Option.map(options.lookupKey(secretId), Redacted.value))

/**
 * Verifies a signature for a request (protocol.md §6.6), in this order: parse (`Malformed`), SecretId
 * (`UnknownSecretId`), constant-time MAC comparison (`BadMac`), `a`/`b` (`AppIdMismatch`,
 * `BucketMismatch`), then the kind rules:
 *
 * - single-effect (`e = 0`): `f` decoded must equal `/<appid>/<bucket><resourcePath>`;
 * - multi-effect: `e + skew > now`, the lifetime cap if any, and `f` empty, equal to the resource's
 *   fileid, or a directory prefix of it ending in `/` (at least the bucket root).
 *
 * `f` is compared after percent-decoding, so every SDK encoding (§6.3) matches. Replays of
 * single-effect signatures are not detected here: keep a store keyed by `replayKey`.
 *
 * @since 0.1.0
 * @category verification
 */
export const verify = (options: VerifyOptions): Either.Either<ParsedSignature, SignatureError> =>
  Either.mapLeft(
    internal.verify({
      sign: options.sign,
      lookupKey: lookup(options),
      appId: options.appId,
      bucket: options.bucket,
      resourcePath: options.resourcePath,
      opKind: options.opKind,
      now: options.now,
      mode: options.mode,
      maxLifetimeSeconds: options.maxLifetimeSeconds,
      clockSkewSeconds: options.clockSkewSeconds,
      ignoreExpiry: options.ignoreExpiry
    }),
    toError
  )

/**
 * `verify` with `now` taken from `Clock` (whole seconds).
 *
 * @since 0.1.0
 * @category verification
 */
export const verifyNow = (options: Omit<VerifyOptions, "now">): Effect.Effect<ParsedSignature, SignatureError> =>
  Effect.flatMap(Clock.currentTimeMillis, (millis) => verify({ ...options, now: Math.floor(millis / 1000) }))

/**
 * A stable key identifying one single-effect signature use, from `(k, t, r, f)`, for a replay store.
 *
 * @since 0.1.0
 * @category verification
 */
export const replayKey = (parsed: ParsedSignature): string => internal.replayKey(parsed)
