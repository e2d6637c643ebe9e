/**
 * Signature checking of the emulator (protocol.md §6.6) with three strictness modes, on top of core's
 * `Signature.verify`:
 *
 * - `off`: every request is accepted, signed or not.
 * - `lenient`: what the official SDKs send is accepted: multi-effect signatures with `f` empty, exact or a
 *   directory prefix; single- or multi-effect signatures for `delete`, `update`, `move`, `copy`.
 * - `strict`: the documented rules: single-effect signatures only for `delete`/`update`/`move`/`copy`,
 *   multi-effect only elsewhere, `t` not in the future, lifetime at most 90 days.
 *
 * Single-effect signatures are refused when used a second time (the replay store lives in the emulator's
 * storage).
 *
 * @since 0.1.0
 */
import type * as CosError from "@cos-v4/core/CosError"
import type * as CosPath from "@cos-v4/core/CosPath"
import * as Signature from "@cos-v4/core/Signature"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category schemas
 */
export const AuthMode = Schema.Literal("off", "lenient", "strict")

/**
 * @since 0.1.0
 * @category models
 */
export type AuthMode = typeof AuthMode.Type

/**
 * A SecretId and its SecretKey.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credential {
  readonly secretId: string
  readonly secretKey: Redacted.Redacted<string>
}

/**
 * Parses `ID:KEY` (the CLI's `--credential`); the key may contain `:`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseCredential = (input: string): Option.Option<Credential> => {
  const i = input.indexOf(":")
  if (i <= 0 || i === input.length - 1) return Option.none()
  return Option.some({ secretId: input.slice(0, i), secretKey: Redacted.make(input.slice(i + 1)) })
}

/**
 * The signature kind the documentation requires for an op: `single` for delete/update/move/copy.
 *
 * @since 0.1.0
 * @category getters
 */
export const kindOf = (op: string): Signature.Kind =>
  op === "delete" || op === "update" || op === "move" || op === "copy" ? "single" : "multi"

/**
 * The server reason a refused signature is answered with.
 *
 * @since 0.1.0
 * @category getters
 */
export const reasonOf = (reason: Signature.SignatureErrorReason): Exclude<CosError.ServerReason, "Unknown"> => {
  switch (reason) {
    case "Malformed":
      return "SignatureMalformed"
    case "UnknownSecretId":
    case "BadMac":
    case "NotYetValid":
      return "AuthFailed"
    case "Expired":
      return "AuthExpired"
    case "AppIdMismatch":
      return "AppIdMismatch"
    case "BucketMismatch":
      return "BucketMismatch"
    case "ResourceMismatch":
    case "SingleUseRequired":
    case "MultiUseRequired":
    case "LifetimeTooLong":
      return "SignatureScope"
  }
}

/**
 * What a request needs verified.
 *
 * @since 0.1.0
 * @category models
 */
export interface VerifyRequest {
  readonly mode: "lenient" | "strict"
  readonly sign: string | undefined
  readonly credentials: ReadonlyMap<string, Redacted.Redacted<string>>
  readonly appId: string
  readonly bucket: string
  readonly path: CosPath.CosPath
  readonly op: string
  readonly now: number
  readonly ignoreExpiry: boolean
  readonly clockSkewSeconds: number
}

/**
 * Verifies a request's signature (not the replay rule).
 *
 * @since 0.1.0
 * @category verification
 */
export const verify = (
  request: VerifyRequest
): Either.Either<
  Signature.ParsedSignature,
  { readonly reason: Exclude<CosError.ServerReason, "Unknown">; readonly detail: string }
> => {
  if (request.sign === undefined || request.sign === "") {
    return Either.left({
      reason: "SignatureMalformed",
      detail: "no signature (Authorization header or sign parameter)"
    })
  }
  return Either.mapLeft(
    Signature.verify({
      sign: request.sign,
      lookupKey: (id) => Option.fromNullable(request.credentials.get(id)),
      appId: request.appId,
      bucket: request.bucket,
      resourcePath: request.path,
      opKind: kindOf(request.op),
      now: request.now,
      mode: request.mode,
      clockSkewSeconds: request.clockSkewSeconds,
      ignoreExpiry: request.ignoreExpiry
    }),
    (e) => ({ reason: reasonOf(e.reason), detail: `${e.reason}${e.detail === undefined ? "" : `: ${e.detail}`}` })
  )
}
