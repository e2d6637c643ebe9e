/**
 * The emulator's multipart/form-data parser: a buffered body is split into parts with `Buffer.indexOf`, part
 * bodies are zero-copy views of the request body. It accepts every official SDK's variant (protocol.md §1.3):
 * a preamble, a filename on text parts, per-part headers of any case, duplicated parts.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as internal from "./internal/multipart.js"

/**
 * One part of a multipart body.
 *
 * @since 0.1.0
 * @category models
 */
export interface Part {
  readonly name: string
  readonly filename: string | undefined
  readonly contentType: string | undefined
  readonly data: Buffer
}

/**
 * The boundary parameter of a `multipart/form-data` Content-Type.
 *
 * @since 0.1.0
 * @category parsing
 */
export const boundaryOf: (contentType: string) => string | undefined = internal.boundaryOf

/**
 * The boundary of a body that starts with a delimiter line (for requests without a Content-Type).
 *
 * @since 0.1.0
 * @category parsing
 */
export const sniffBoundary: (body: Buffer) => string | undefined = internal.sniffBoundary

/**
 * Parses a complete body; `Left` carries a short description of what is malformed.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (body: Buffer, boundary: string): Either.Either<ReadonlyArray<Part>, string> => {
  const result = internal.parse(body, boundary)
  return result._tag === "Ok" ? Either.right(result.parts) : Either.left(result.detail)
}
