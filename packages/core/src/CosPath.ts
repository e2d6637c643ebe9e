/**
 * COS paths (`/dir/a.txt` file, `/dir/` directory, `/` root), their validation, and the v4 fileid /
 * URL percent-encoding rules (protocol.md §1.1, §6.3).
 *
 * A `CosPath` is always the *decoded* path with a leading `/`. Encoding happens only when a path goes
 * into a URL or a signature's `f` field (`encode`, `fileId`, `url`); decoding (`decode`,
 * `parseFileId`, `parseRequestPath`) accepts every SDK encoder variant.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as internal from "./internal/cosPath.js"

/**
 * Why a path, fileid or request path was refused.
 *
 * - `Empty`: the empty string.
 * - `ForbiddenCharacter`: one of `? * : | \ < > "` (refused by the official SDKs).
 * - `ControlCharacter`: U+0000–U+001F or U+007F.
 * - `InvalidUnicode`: an unpaired UTF-16 surrogate (cannot be UTF-8 encoded).
 * - `EmptySegment`: `//` or a blank segment such as `/ /`. (php collapses `//`, java/cpp drop empty
 *   segments; we refuse them so a path has one spelling.)
 * - `DotSegment`: a `.` or `..` segment, in any encoding.
 * - `TrailingSlash`: a directory where a file path is required (`parseFile`).
 * - `NotAbsolute`: no leading `/` while `requireLeadingSlash` is set.
 * - `TooLong`: more than `maxBytes` UTF-8 bytes (an emulator safety limit, not a documented COS one).
 * - `BadEncoding`: a malformed `%` escape or percent-encoded bytes that are not UTF-8.
 * - `EncodedSlash`: a URL/fileid segment decoding to something containing `/` (`%2F`).
 * - `BadAppId`, `BadBucket`: invalid appid (decimal digits) or bucket name.
 * - `BadFileId`, `BadRequestPath`: not shaped like `/<appid>/<bucket>/…` or `/files/v2/<appid>/<bucket>/…`.
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidPathReason: Schema.Literal<typeof internal.reasons> = Schema.Literal(...internal.reasons)

/**
 * @since 0.1.0
 * @category errors
 */
export type InvalidPathReason = typeof InvalidPathReason.Type

/**
 * A COS path, fileid or request path that cannot be used.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPath extends Schema.TaggedError<InvalidPath>("@cos-v4/core/InvalidPath")("InvalidPath", {
  input: Schema.String,
  reason: InvalidPathReason,
  detail: Schema.optional(Schema.String)
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Invalid COS path ${JSON.stringify(this.input)}: ${this.reason}${
      this.detail === undefined ? "" : ` (${this.detail})`
    }`
  }
}

const toError = (input: string) => (issue: internal.Issue): InvalidPath =>
  new InvalidPath(issue.detail === undefined ? { input, reason: issue.reason } : { input, ...issue })

/**
 * Upper bound on the UTF-8 length of a path.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBytes: number = internal.maxBytes

/**
 * A validated, decoded COS path with a leading `/`. Directories (and only directories) end with `/`.
 * As a schema it accepts only strings that are already in that form (`requireLeadingSlash`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CosPath = Schema.String.pipe(
  Schema.filter((input) =>
    Either.match(internal.validate(input, { requireLeadingSlash: true }), {
      onLeft: (issue) => issue.detail === undefined ? issue.reason : `${issue.reason}: ${issue.detail}`,
      onRight: (normalised) => normalised === input
    })
  ),
  Schema.brand("@cos-v4/core/CosPath"),
  Schema.annotations({ identifier: "CosPath", description: "a COS path such as /dir/a.txt or /dir/" })
)

/**
 * @since 0.1.0
 * @category models
 */
export type CosPath = typeof CosPath.Type

/**
 * @since 0.1.0
 * @category models
 */
export interface ParseOptions {
  /**
   * When `true`, `dir/a.txt` is refused with `NotAbsolute`. By default a missing leading `/` is added
   * (`dir/a.txt` → `/dir/a.txt`), which is convenient for command-line input.
   */
  readonly requireLeadingSlash?: boolean | undefined
}

/**
 * Validates a decoded path (not percent-encoded). Refuses `? * : | \ < > "`, control characters,
 * unpaired surrogates, empty or blank segments and `.`/`..` segments.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (input: string, options?: ParseOptions): Either.Either<CosPath, InvalidPath> =>
  Either.mapBoth(internal.validate(input, options), {
    onLeft: toError(input),
    onRight: (path) => path as CosPath
  })

/**
 * Like `parse`, but also refuses directories (paths ending in `/`, including the root) with
 * `TrailingSlash`: the target of an upload.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseFile = (input: string, options?: ParseOptions): Either.Either<CosPath, InvalidPath> =>
  Either.flatMap(
    parse(input, options),
    (path) =>
      internal.isDirectory(path)
        ? Either.left(new InvalidPath({ input, reason: "TrailingSlash", detail: "a file path was expected" }))
        : Either.right(path)
  )

/**
 * The bucket root, `/`.
 *
 * @since 0.1.0
 * @category constants
 */
export const root: CosPath = "/" as CosPath

/**
 * `true` for directories (including the root): paths ending in `/`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isDirectory = (path: CosPath): boolean => internal.isDirectory(path)

/**
 * @since 0.1.0
 * @category guards
 */
export const isRoot = (path: CosPath): boolean => path === "/"

/**
 * The decoded segments: `/dir/a.txt` → `["dir", "a.txt"]`, `/dir/` → `["dir"]`, `/` → `[]`.
 *
 * @since 0.1.0
 * @category getters
 */
export const segments = (path: CosPath): ReadonlyArray<string> => internal.segments(path)

/**
 * The last segment (`a.txt` for `/dir/a.txt`, `dir` for `/dir/`), `""` for the root.
 *
 * @since 0.1.0
 * @category getters
 */
export const name = (path: CosPath): string => internal.segments(path).at(-1) ?? ""

/**
 * Percent-encodes one segment the RFC 3986 way: unreserved characters (`A-Z a-z 0-9 - _ . ~`) stay,
 * everything else (including `!*()'`, `+`, space) becomes `%XX` of its UTF-8 bytes, hex uppercase.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeSegment = (segment: string): string => internal.encodeSegment(segment)

/**
 * Percent-encodes every segment of a path, keeping the `/` separators: the form used in request
 * URLs and in the signature's `f` field (same output as the py/php/cpp SDKs).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (path: CosPath): string => internal.encode(path)

/**
 * Percent-decodes a whole string with `decodeURIComponent` semantics: `%XX` in upper- or lowercase
 * hex, raw characters (`!*()'~` etc.) accepted, `+` stays a literal plus (never a space). Fails with
 * `BadEncoding` on a malformed escape or non-UTF-8 bytes. The result is *not* validated: it may
 * contain `/` from `%2F` or `..`; use `parseFileId`/`parseRequestPath` for untrusted locations.
 * Every SDK variant of protocol.md §6.3 decodes to the same string.
 *
 * @since 0.1.0
 * @category encoding
 */
export const decode = (encoded: string): Either.Either<string, InvalidPath> =>
  Either.mapLeft(internal.decode(encoded), toError(encoded))

/**
 * An appid, a bucket and a path, decoded and validated.
 *
 * @since 0.1.0
 * @category models
 */
export interface Location {
  readonly appId: string
  readonly bucket: string
  readonly path: CosPath
}

/**
 * The fileid `"/<appid>/<bucket><encoded path>"`, e.g. `/1250000000/bkt/dir/a%20b.txt` (appid and
 * bucket go through `encodeSegment` too, which leaves ordinary names unchanged).
 *
 * @since 0.1.0
 * @category encoding
 */
export const fileId = (appId: string, bucket: string, path: CosPath): string => internal.fileId(appId, bucket, path)

const toLocation = (location: internal.Location): Location => location as Location

/**
 * Parses a fileid (any SDK's encoding). Each segment is decoded separately; a segment that decodes to
 * something containing `/` fails with `EncodedSlash`, and the path is validated like `parse`.
 * `/<appid>/<bucket>` and `/<appid>/<bucket>/` both give the root.
 *
 * @since 0.1.0
 * @category encoding
 */
export const parseFileId = (fileId: string): Either.Either<Location, InvalidPath> =>
  Either.mapBoth(internal.parseFileId(fileId), { onLeft: toError(fileId), onRight: toLocation })

/**
 * The request URL `${endpoint}/files/v2/<appid>/<bucket><encoded path>` (trailing slashes of
 * `endpoint` are dropped). The root gives `…/<bucket>/`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const url = (endpoint: string, appId: string, bucket: string, path: CosPath): string =>
  internal.url(endpoint, appId, bucket, path)

/**
 * Parses a request URL's pathname (`/files/v2/<appid>/<bucket>/<path>`, query string removed) for a
 * server. Segments are percent-decoded one by one (any SDK encoding, `+` literal); a decoded `/`
 * (`%2F`) fails with `EncodedSlash`, and `.`/`..` segments in any encoding, empty segments and
 * forbidden characters fail as in `parse`, so the result can never escape the bucket.
 * `/files/v2/<appid>/<bucket>` and `/files/v2/<appid>/<bucket>/` both give the root.
 *
 * @since 0.1.0
 * @category encoding
 */
export const parseRequestPath = (pathname: string): Either.Either<Location, InvalidPath> =>
  Either.mapBoth(internal.parseRequestPath(pathname), { onLeft: toError(pathname), onRight: toLocation })
