/**
 * Minimal UTF-8 codec on ECMAScript built-ins only (no TextEncoder/TextDecoder typings needed), so
 * `@cos-v4/core` stays free of DOM/Node globals. Sizes handled here are tiny (signatures, paths).
 *
 * @internal
 */

/** @internal */
export const encode = (input: string): Uint8Array => {
  const out: Array<number> = []
  for (const char of input) {
    let cp = char.codePointAt(0)!
    // lone surrogates become U+FFFD, like TextEncoder
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd
    if (cp < 0x80) {
      out.push(cp)
    } else if (cp < 0x800) {
      out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f))
    } else if (cp < 0x10000) {
      out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    } else {
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    }
  }
  return Uint8Array.from(out)
}

/**
 * Strict decoder: `undefined` on any malformed, overlong or surrogate sequence.
 *
 * @internal
 */
export const decode = (bytes: Uint8Array): string | undefined => {
  let out = ""
  let i = 0
  while (i < bytes.length) {
    const b0 = bytes[i]!
    let cp: number
    let need: number
    let min: number
    if (b0 < 0x80) {
      out += String.fromCharCode(b0)
      i++
      continue
    } else if ((b0 & 0xe0) === 0xc0) {
      cp = b0 & 0x1f
      need = 1
      min = 0x80
    } else if ((b0 & 0xf0) === 0xe0) {
      cp = b0 & 0x0f
      need = 2
      min = 0x800
    } else if ((b0 & 0xf8) === 0xf0) {
      cp = b0 & 0x07
      need = 3
      min = 0x10000
    } else {
      return undefined
    }
    if (i + need >= bytes.length) return undefined
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k]!
      if ((b & 0xc0) !== 0x80) return undefined
      cp = (cp << 6) | (b & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined
    out += String.fromCodePoint(cp)
    i += need + 1
  }
  return out
}
