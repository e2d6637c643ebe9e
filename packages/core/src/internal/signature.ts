/**
 * The v4 signature: `Base64(HMAC-SHA1(SecretKey, plain) ‖ plain)` (protocol.md §6).
 *
 * Pure functions; the public module adds the error class, Clock/Random and Redacted handling.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as cosPath from "./cosPath.js"
import { constantTimeEqual, hmacSha1 } from "./hmacSha1.js"
import * as utf8 from "./utf8.js"

/** @internal */
export const reasons = [
  "Malformed",
  "UnknownSecretId",
  "BadMac",
  "Expired",
  "NotYetValid",
  "AppIdMismatch",
  "BucketMismatch",
  "ResourceMismatch",
  "SingleUseRequired",
  "MultiUseRequired",
  "LifetimeTooLong"
] as const

/** @internal */
export type Reason = typeof reasons[number]

/** @internal */
export interface Issue {
  readonly reason: Reason
  readonly detail?: string
}

const issue = (reason: Reason, detail?: string): Either.Either<never, Issue> =>
  Either.left(detail === undefined ? { reason } : { reason, detail })

/** @internal */
export interface Fields {
  readonly a: string
  readonly k: string
  readonly e: number
  readonly t: number
  readonly r: string
  readonly f: string
  readonly b: string
}

/** @internal */
export interface Parsed {
  readonly mac: Uint8Array
  readonly plain: string
  readonly fields: Fields
  readonly kind: "multi" | "single"
}

/** The fields of a plain text to sign (`r` may be given as a number). @internal */
export interface PlainFields extends Omit<Fields, "r"> {
  readonly r: string | number
}

/** Plain text in the order of py/java/cpp/net/js: `a,k,e,t,r,f,b`. @internal */
export const plainText = (fields: PlainFields): string =>
  `a=${fields.a}&k=${fields.k}&e=${fields.e}&t=${fields.t}&r=${fields.r}&f=${fields.f}&b=${fields.b}`

/** @internal */
export const signPlain = (secretKey: string, plain: string): string => {
  const plainBytes = utf8.encode(plain)
  const mac = hmacSha1(utf8.encode(secretKey), plainBytes)
  const out = new Uint8Array(mac.length + plainBytes.length)
  out.set(mac)
  out.set(plainBytes, mac.length)
  return Encoding.encodeBase64(out)
}

const macLength = 20
const required = ["a", "k", "e", "t", "r", "f", "b"] as const
const decimal = /^[0-9]{1,16}$/

const parseInteger = (key: string, value: string): Either.Either<number, Issue> => {
  if (!decimal.test(value)) return issue("Malformed", `${key} is not a non-negative decimal integer`)
  const n = Number(value)
  return Number.isSafeInteger(n) ? Either.right(n) : issue("Malformed", `${key} is too large`)
}

/** @internal */
export const parse = (sign: string): Either.Either<Parsed, Issue> => {
  // tolerate missing `=` padding; everything else must be standard base64
  const padded = sign.length % 4 === 0 ? sign : sign + "=".repeat(4 - (sign.length % 4))
  const decoded = Encoding.decodeBase64(padded)
  if (Either.isLeft(decoded) || !/^[A-Za-z0-9+/]*={0,2}$/.test(padded)) return issue("Malformed", "not base64")
  const bytes = decoded.right
  if (bytes.length <= macLength) return issue("Malformed", "too short")
  const plain = utf8.decode(bytes.subarray(macLength))
  if (plain === undefined) return issue("Malformed", "plain text is not UTF-8")
  const values = new Map<string, string>()
  for (const pair of plain.split("&")) {
    if (pair === "") continue
    const eq = pair.indexOf("=")
    if (eq <= 0) return issue("Malformed", "a field is not key=value")
    const key = pair.slice(0, eq)
    if (values.has(key)) return issue("Malformed", `duplicate field ${key}`)
    values.set(key, pair.slice(eq + 1))
  }
  for (const key of required) {
    if (!values.has(key)) return issue("Malformed", `missing field ${key}`)
  }
  const e = parseInteger("e", values.get("e")!)
  if (Either.isLeft(e)) return Either.left(e.left)
  const t = parseInteger("t", values.get("t")!)
  if (Either.isLeft(t)) return Either.left(t.left)
  return Either.right({
    mac: bytes.slice(0, macLength),
    plain,
    fields: {
      a: values.get("a")!,
      k: values.get("k")!,
      e: e.right,
      t: t.right,
      r: values.get("r")!,
      f: values.get("f")!,
      b: values.get("b")!
    },
    kind: e.right === 0 ? "single" : "multi"
  })
}

/** @internal */
export const macMatches = (parsed: Parsed, secretKey: string): boolean =>
  constantTimeEqual(parsed.mac, hmacSha1(utf8.encode(secretKey), utf8.encode(parsed.plain)))

/** @internal */
export const maxLifetimeStrict = 90 * 24 * 60 * 60

/** @internal */
export interface VerifyOptions {
  readonly sign: string
  readonly lookupKey: (secretId: string) => string | undefined
  readonly appId: string
  readonly bucket: string
  readonly resourcePath: string
  readonly opKind: "multi" | "single"
  readonly now: number
  readonly mode?: "lenient" | "strict" | undefined
  readonly maxLifetimeSeconds?: number | undefined
  readonly clockSkewSeconds?: number | undefined
  readonly ignoreExpiry?: boolean | undefined
}

/** @internal */
export const verify = (options: VerifyOptions): Either.Either<Parsed, Issue> => {
  const parsed = parse(options.sign)
  if (Either.isLeft(parsed)) return parsed
  const p = parsed.right
  const { fields } = p
  const strict = options.mode === "strict"
  const skew = options.clockSkewSeconds ?? 0

  const secretKey = options.lookupKey(fields.k)
  if (secretKey === undefined) return issue("UnknownSecretId")
  if (!macMatches(p, secretKey)) return issue("BadMac")

  if (fields.a !== options.appId) return issue("AppIdMismatch", `signed for appid ${fields.a}`)
  if (fields.b !== options.bucket) return issue("BucketMismatch", `signed for bucket ${fields.b}`)
  if (strict && fields.t > options.now + skew) return issue("NotYetValid", `t=${fields.t} is in the future`)

  const expected = `/${options.appId}/${options.bucket}${options.resourcePath}`
  const f = fields.f === "" ? Either.right("") : cosPath.decode(fields.f)
  if (Either.isLeft(f)) return issue("ResourceMismatch", "f is not validly percent-encoded")

  if (p.kind === "single") {
    if (strict && options.opKind === "multi") return issue("MultiUseRequired")
    if (f.right !== expected) return issue("ResourceMismatch", "a single-use signature must name the resource")
    return parsed
  }

  if (strict && options.opKind === "single") return issue("SingleUseRequired")
  if (options.ignoreExpiry !== true && fields.e + skew <= options.now) {
    return issue("Expired", `expired at ${fields.e}`)
  }
  const maxLifetime = options.maxLifetimeSeconds ?? (strict ? maxLifetimeStrict : undefined)
  if (maxLifetime !== undefined && fields.e - fields.t > maxLifetime) {
    return issue("LifetimeTooLong", `${fields.e - fields.t} s, at most ${maxLifetime} s`)
  }
  // a bound `f` may also be a directory prefix of the resource (at least the bucket root `/a/b/`)
  const bucketRoot = `/${options.appId}/${options.bucket}/`
  const fOk = f.right === "" || f.right === expected ||
    (f.right.endsWith("/") && f.right.startsWith(bucketRoot) && expected.startsWith(f.right))
  if (!fOk) return issue("ResourceMismatch", "f names another resource")
  return parsed
}

/** @internal */
export const replayKey = (parsed: Parsed): string =>
  JSON.stringify([parsed.fields.k, parsed.fields.t, parsed.fields.r, parsed.fields.f])
