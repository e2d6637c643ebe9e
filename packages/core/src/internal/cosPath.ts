/**
 * COS path validation and the v4 percent-encoding rules (protocol.md §1.1, §6.3).
 *
 * Every function here is total and returns an `Either` whose left side is a plain `Issue`; the
 * public module turns issues into `InvalidPath` errors.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as utf8 from "./utf8.js"

/** @internal */
export const reasons = [
  "Empty",
  "ForbiddenCharacter",
  "ControlCharacter",
  "InvalidUnicode",
  "EmptySegment",
  "DotSegment",
  "TrailingSlash",
  "NotAbsolute",
  "TooLong",
  "BadEncoding",
  "EncodedSlash",
  "BadAppId",
  "BadBucket",
  "BadFileId",
  "BadRequestPath"
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
export const maxBytes = 4096

const forbidden = /[?*:|\\<>"]/

const control = /[\u0000-\u001f\u007f]/
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const loneSurrogates = new RegExp(loneSurrogate.source, "g")

const describeChar = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`

/** Checks that apply to any single name (path segment, bucket). */
const checkCharacters = (input: string): Either.Either<void, Issue> => {
  if (loneSurrogate.test(input)) return issue("InvalidUnicode", "unpaired UTF-16 surrogate")
  const c = control.exec(input)
  if (c !== null) return issue("ControlCharacter", describeChar(c[0]))
  const f = forbidden.exec(input)
  if (f !== null) return issue("ForbiddenCharacter", JSON.stringify(f[0]))
  return Either.void
}

const checkSegment = (segment: string): Either.Either<void, Issue> => {
  if (segment === "") return issue("EmptySegment")
  if (segment.trim() === "") return issue("EmptySegment", "blank segment")
  if (segment === "." || segment === "..") return issue("DotSegment", JSON.stringify(segment))
  return Either.void
}

/** @internal */
export interface ParseOptions {
  readonly requireLeadingSlash?: boolean | undefined
}

/**
 * Validates a decoded COS path and normalises a missing leading slash (unless disallowed).
 *
 * @internal
 */
export const validate = (input: string, options?: ParseOptions): Either.Either<string, Issue> => {
  if (input === "") return issue("Empty")
  if (input.length > maxBytes) return issue("TooLong", `more than ${maxBytes} bytes`)
  const chars = checkCharacters(input)
  if (Either.isLeft(chars)) return Either.left(chars.left)
  let path = input
  if (!path.startsWith("/")) {
    if (options?.requireLeadingSlash === true) return issue("NotAbsolute")
    path = "/" + path
  }
  if (path === "/") return Either.right(path)
  const body = path.endsWith("/") ? path.slice(1, -1) : path.slice(1)
  for (const segment of body.split("/")) {
    const checked = checkSegment(segment)
    if (Either.isLeft(checked)) return Either.left(checked.left)
  }
  const bytes = utf8.encode(path).length
  if (bytes > maxBytes) return issue("TooLong", `${bytes} bytes, at most ${maxBytes}`)
  return Either.right(path)
}

/** @internal */
export const isDirectory = (path: string): boolean => path.endsWith("/")

/** @internal */
export const segments = (path: string): Array<string> => {
  const body = path.endsWith("/") ? path.slice(1, -1) : path.slice(1)
  return body === "" ? [] : body.split("/")
}

const reserved = /[!'()*]/g

/**
 * RFC 3986 percent-encoding of one segment: unreserved `A-Z a-z 0-9 - _ . ~` stay, everything else
 * becomes `%XX` with uppercase hex (the py/php/cpp form). Unpaired surrogates (never present in a
 * validated path) are replaced by U+FFFD instead of throwing.
 *
 * @internal
 */
export const encodeSegment = (segment: string): string =>
  encodeURIComponent(segment.replace(loneSurrogates, "\uFFFD")).replace(
    reserved,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase()
  )

/** @internal */
export const encode = (path: string): string => path.split("/").map(encodeSegment).join("/")

/**
 * `decodeURIComponent` semantics: `+` stays a plus, hex in either case, malformed escapes and
 * invalid UTF-8 fail.
 *
 * @internal
 */
export const decode = (encoded: string): Either.Either<string, Issue> => {
  try {
    return Either.right(decodeURIComponent(encoded))
  } catch (_) {
    return issue("BadEncoding", "malformed percent-escape or invalid UTF-8")
  }
}

const decodeSegment = (raw: string): Either.Either<string, Issue> => {
  const decoded = decode(raw)
  if (Either.isLeft(decoded)) return decoded
  if (decoded.right.includes("/")) return issue("EncodedSlash", "a segment contains an encoded '/'")
  return decoded
}

const appIdPattern = /^[0-9]{1,20}$/

/** @internal */
export const validateAppId = (appId: string): Either.Either<string, Issue> =>
  appIdPattern.test(appId) ? Either.right(appId) : issue("BadAppId", "the appid must be decimal digits")

/** @internal */
export const validateBucket = (bucket: string): Either.Either<string, Issue> => {
  if (bucket === "" || bucket.trim() !== bucket || bucket === "." || bucket === ".." || bucket.includes("/")) {
    return issue("BadBucket", JSON.stringify(bucket))
  }
  const chars = checkCharacters(bucket)
  return Either.isLeft(chars) ? issue("BadBucket", chars.left.detail ?? chars.left.reason) : Either.right(bucket)
}

/** @internal */
export interface Location {
  readonly appId: string
  readonly bucket: string
  readonly path: string
}

/**
 * Parses `<appid>/<bucket>[/<encoded path>]` (the part after `/files/v2/`, or a fileid without its
 * leading `/`). Each segment is decoded on its own; a decoded `/` is refused, so `%2F` can never
 * create a new path level, and the decoded path then goes through `validate` (no `.`/`..`).
 */
const parseLocation = (rest: string, onShape: Reason): Either.Either<Location, Issue> => {
  const parts = rest.split("/")
  if (parts.length < 2) return issue(onShape, "expected <appid>/<bucket>/<path>")
  const [rawAppId, rawBucket, ...rawPath] = parts as [string, string, ...Array<string>]
  const appId = Either.flatMap(decodeSegment(rawAppId), validateAppId)
  if (Either.isLeft(appId)) return Either.left(appId.left)
  const bucket = Either.flatMap(decodeSegment(rawBucket), validateBucket)
  if (Either.isLeft(bucket)) return Either.left(bucket.left)
  const decoded: Array<string> = []
  for (const raw of rawPath) {
    const segment = decodeSegment(raw)
    if (Either.isLeft(segment)) return Either.left(segment.left)
    decoded.push(segment.right)
  }
  // `/files/v2/a/b` (no trailing slash) and `/files/v2/a/b/` both address the bucket root
  const path = decoded.length === 0 ? "/" : "/" + decoded.join("/")
  return Either.map(validate(path), (path) => ({ appId: appId.right, bucket: bucket.right, path }))
}

/** @internal */
export const fileId = (appId: string, bucket: string, path: string): string =>
  `/${encodeSegment(appId)}/${encodeSegment(bucket)}${encode(path)}`

/** @internal */
export const parseFileId = (fileId: string): Either.Either<Location, Issue> =>
  fileId.startsWith("/") ? parseLocation(fileId.slice(1), "BadFileId") : issue("BadFileId", "must start with '/'")

const requestPrefix = "/files/v2/"

/** @internal */
export const parseRequestPath = (pathname: string): Either.Either<Location, Issue> =>
  pathname.startsWith(requestPrefix)
    ? parseLocation(pathname.slice(requestPrefix.length), "BadRequestPath")
    : issue("BadRequestPath", `must start with ${requestPrefix}`)

/** @internal */
export const url = (endpoint: string, appId: string, bucket: string, path: string): string =>
  `${endpoint.replace(/\/+$/, "")}/files/v2${fileId(appId, bucket, path)}`
