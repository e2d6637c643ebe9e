/**
 * A small multipart/form-data parser over a fully buffered body (protocol.md §1.3): parts are found with
 * `Buffer.indexOf`, part bodies are zero-copy `subarray`s of the request body.
 *
 * One shortcut, for speed: the end of a large `filecontent` part (a slice, more than 256 KiB before the body's end)
 * is searched for in the last 64 KiB of the body only. RFC 2046 forbids the boundary inside a part, and every SDK
 * sends at most a few small fields after the payload (py) or none, so this finds the same end as a full search
 * while scanning 64 KiB instead of the whole slice. A body that breaks the rule (its boundary inside the payload,
 * or more than 64 KiB of fields after it) is read as one longer payload, which the slice's length check refuses.
 *
 * @internal
 */

/** @internal */
export interface Part {
  /** The `name` parameter of `Content-Disposition`, as sent. */
  readonly name: string
  readonly filename: string | undefined
  readonly contentType: string | undefined
  readonly data: Buffer
}

/** @internal */
export type ParseResult =
  | { readonly _tag: "Ok"; readonly parts: ReadonlyArray<Part> }
  | { readonly _tag: "Invalid"; readonly detail: string }

const invalid = (detail: string): ParseResult => ({ _tag: "Invalid", detail })

const boundaryParam = /(?:^|;)\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i

/** The boundary of a `multipart/*` Content-Type, if any. @internal */
export const boundaryOf = (contentType: string): string | undefined => {
  const m = boundaryParam.exec(contentType)
  if (m === null) return undefined
  const b = m[1] ?? m[2]
  return b === undefined || b.length === 0 || b.length > 200 ? undefined : b
}

/**
 * Sniffs the boundary of a body that starts (after an optional CRLF preamble) with `--boundary\r\n`, for
 * requests that lack a Content-Type.
 *
 * @internal
 */
export const sniffBoundary = (body: Buffer): string | undefined => {
  let start = 0
  while (start < body.length && (body[start] === 0x0d || body[start] === 0x0a)) start++
  if (body[start] !== 0x2d || body[start + 1] !== 0x2d) return undefined
  const eol = body.indexOf("\r\n", start, "latin1")
  if (eol < 0 || eol - start - 2 > 200 || eol - start - 2 < 1) return undefined
  return body.toString("latin1", start + 2, eol)
}

const dispositionParam = (header: string, param: string): string | undefined => {
  // name="x" | name=x ; never match "filename" when looking for "name"
  const re = new RegExp(`(?:^|[;\\s])${param}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i")
  const m = re.exec(header)
  if (m === null) return undefined
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]
}

const maxHeaderBytes = 16 * 1024
/** A `filecontent` part running further than this from the end of the body is a slice: see the module comment. */
const largePart = 256 * 1024
const tailWindow = 64 * 1024

/**
 * Parses a complete multipart body. Tolerates a preamble (the .NET SDK's leading CRLF), a filename on any part
 * (py), per-part `Content-Length` headers (android, ignored: the boundary decides) and a missing final CRLF.
 * Header values are read as UTF-8 (browsers send raw UTF-8 names).
 *
 * @internal
 */
export const parse = (body: Buffer, boundary: string): ParseResult => {
  const delimiter = Buffer.from(`--${boundary}`, "latin1")
  const separator = Buffer.from(`\r\n--${boundary}`, "latin1")
  // the first delimiter may be at the very start or after a preamble ending in CRLF
  let pos: number
  if (body.length >= delimiter.length && body.subarray(0, delimiter.length).equals(delimiter)) {
    pos = 0
  } else {
    const at = body.indexOf(separator)
    if (at < 0) return invalid("no multipart boundary found")
    pos = at + 2
  }
  const parts: Array<Part> = []
  for (;;) {
    pos += delimiter.length
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break // closing delimiter
    // transport padding, then CRLF
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2
    else if (pos >= body.length) return invalid("body ends without the closing boundary")
    else return invalid("malformed boundary line")
    let headerEnd: number
    let dataStart: number
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      // a part without headers
      headerEnd = pos
      dataStart = pos + 2
    } else {
      headerEnd = body.indexOf("\r\n\r\n", pos, "latin1")
      if (headerEnd < 0) return invalid("part headers are not terminated")
      dataStart = headerEnd + 4
    }
    if (headerEnd - pos > maxHeaderBytes) return invalid("part headers too large")
    const headerText = body.toString("utf8", pos, headerEnd)
    let name: string | undefined
    let filename: string | undefined
    let contentType: string | undefined
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":")
      if (colon <= 0) continue
      const key = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (key === "content-disposition") {
        name = dispositionParam(value, "name")
        filename = dispositionParam(value, "filename")
      } else if (key === "content-type") {
        contentType = value
      }
    }
    const searchFrom = name !== undefined && body.length - dataStart > largePart &&
        name.toLowerCase() === "filecontent"
      ? body.length - tailWindow
      : dataStart
    const dataEnd = body.indexOf(separator, searchFrom)
    if (dataEnd < 0) return invalid("part is not terminated by a boundary")
    if (name !== undefined) {
      parts.push({ name, filename, contentType, data: body.subarray(dataStart, dataEnd) })
    }
    pos = dataEnd + 2
  }
  return { _tag: "Ok", parts }
}
