/**
 * Pure-TypeScript SHA-1 with chaining-state export (see `Sha1.ts` for the public API).
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { InvalidArgument } from "../CosError.js"
import type { Sha1Hasher, UploadPart, UploadPartsBuilder } from "../Sha1.js"

// ---------------------------------------------------------------------------------------------
// hex / little-endian helpers
// ---------------------------------------------------------------------------------------------

const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** @internal lowercase hex of some bytes */
export const hex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

const wordBE = (w: number): string => HEX[w >>> 24]! + HEX[(w >>> 16) & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[w & 0xff]!

const wordLE = (w: number): string => HEX[w & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[(w >>> 16) & 0xff]! + HEX[w >>> 24]!

/** @internal hex of five 32-bit words, each written little-endian (the `uploadparts` state format) */
export const hexLE = (h: ArrayLike<number>): string =>
  wordLE(h[0]!) + wordLE(h[1]!) + wordLE(h[2]!) + wordLE(h[3]!) + wordLE(h[4]!)

/** @internal hex of five 32-bit words, each written big-endian (the normal digest format) */
export const hexBE = (h: ArrayLike<number>): string =>
  wordBE(h[0]!) + wordBE(h[1]!) + wordBE(h[2]!) + wordBE(h[3]!) + wordBE(h[4]!)

/** @internal */
export const INIT: ReadonlyArray<number> = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]

// ---------------------------------------------------------------------------------------------
// compression function
// ---------------------------------------------------------------------------------------------

/**
 * Runs the SHA-1 compression function over the 64-byte blocks `[off, end)` of `view` (`end - off` must be a
 * multiple of 64), updating the chaining state `h` in place. Fully unrolled, with the 16-word message schedule
 * in locals and the five working variables renamed instead of rotated: no allocation, no array traffic.
 *
 * @internal
 */
export const compress = (h: Int32Array, view: DataView, off: number, end: number): void => {
  let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!
  for (; off < end; off += 64) {
    let w0 = view.getInt32(off)
    let w1 = view.getInt32(off + 4)
    let w2 = view.getInt32(off + 8)
    let w3 = view.getInt32(off + 12)
    let w4 = view.getInt32(off + 16)
    let w5 = view.getInt32(off + 20)
    let w6 = view.getInt32(off + 24)
    let w7 = view.getInt32(off + 28)
    let w8 = view.getInt32(off + 32)
    let w9 = view.getInt32(off + 36)
    let w10 = view.getInt32(off + 40)
    let w11 = view.getInt32(off + 44)
    let w12 = view.getInt32(off + 48)
    let w13 = view.getInt32(off + 52)
    let w14 = view.getInt32(off + 56)
    let w15 = view.getInt32(off + 60)
    let a = h0, b = h1, c = h2, d = h3, e = h4, t = 0
    e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w0) | 0
    b = (b << 30) | (b >>> 2)
    d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w1) | 0
    a = (a << 30) | (a >>> 2)
    c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w2) | 0
    e = (e << 30) | (e >>> 2)
    b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w3) | 0
    d = (d << 30) | (d >>> 2)
    a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w4) | 0
    c = (c << 30) | (c >>> 2)
    e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w5) | 0
    b = (b << 30) | (b >>> 2)
    d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w6) | 0
    a = (a << 30) | (a >>> 2)
    c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w7) | 0
    e = (e << 30) | (e >>> 2)
    b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w8) | 0
    d = (d << 30) | (d >>> 2)
    a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w9) | 0
    c = (c << 30) | (c >>> 2)
    e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w10) | 0
    b = (b << 30) | (b >>> 2)
    d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w11) | 0
    a = (a << 30) | (a >>> 2)
    c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w12) | 0
    e = (e << 30) | (e >>> 2)
    b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w13) | 0
    d = (d << 30) | (d >>> 2)
    a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w14) | 0
    c = (c << 30) | (c >>> 2)
    e = (((a << 5) | (a >>> 27)) + (d ^ (b & (c ^ d))) + e + 0x5a827999 + w15) | 0
    b = (b << 30) | (b >>> 2)
    t = w13 ^ w8 ^ w2 ^ w0
    w0 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (c ^ (a & (b ^ c))) + d + 0x5a827999 + w0) | 0
    a = (a << 30) | (a >>> 2)
    t = w14 ^ w9 ^ w3 ^ w1
    w1 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (b ^ (e & (a ^ b))) + c + 0x5a827999 + w1) | 0
    e = (e << 30) | (e >>> 2)
    t = w15 ^ w10 ^ w4 ^ w2
    w2 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (a ^ (d & (e ^ a))) + b + 0x5a827999 + w2) | 0
    d = (d << 30) | (d >>> 2)
    t = w0 ^ w11 ^ w5 ^ w3
    w3 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (e ^ (c & (d ^ e))) + a + 0x5a827999 + w3) | 0
    c = (c << 30) | (c >>> 2)
    t = w1 ^ w12 ^ w6 ^ w4
    w4 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w4) | 0
    b = (b << 30) | (b >>> 2)
    t = w2 ^ w13 ^ w7 ^ w5
    w5 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w5) | 0
    a = (a << 30) | (a >>> 2)
    t = w3 ^ w14 ^ w8 ^ w6
    w6 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w6) | 0
    e = (e << 30) | (e >>> 2)
    t = w4 ^ w15 ^ w9 ^ w7
    w7 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w7) | 0
    d = (d << 30) | (d >>> 2)
    t = w5 ^ w0 ^ w10 ^ w8
    w8 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w8) | 0
    c = (c << 30) | (c >>> 2)
    t = w6 ^ w1 ^ w11 ^ w9
    w9 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w9) | 0
    b = (b << 30) | (b >>> 2)
    t = w7 ^ w2 ^ w12 ^ w10
    w10 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w10) | 0
    a = (a << 30) | (a >>> 2)
    t = w8 ^ w3 ^ w13 ^ w11
    w11 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w11) | 0
    e = (e << 30) | (e >>> 2)
    t = w9 ^ w4 ^ w14 ^ w12
    w12 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w12) | 0
    d = (d << 30) | (d >>> 2)
    t = w10 ^ w5 ^ w15 ^ w13
    w13 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w13) | 0
    c = (c << 30) | (c >>> 2)
    t = w11 ^ w6 ^ w0 ^ w14
    w14 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w14) | 0
    b = (b << 30) | (b >>> 2)
    t = w12 ^ w7 ^ w1 ^ w15
    w15 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w15) | 0
    a = (a << 30) | (a >>> 2)
    t = w13 ^ w8 ^ w2 ^ w0
    w0 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w0) | 0
    e = (e << 30) | (e >>> 2)
    t = w14 ^ w9 ^ w3 ^ w1
    w1 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w1) | 0
    d = (d << 30) | (d >>> 2)
    t = w15 ^ w10 ^ w4 ^ w2
    w2 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w2) | 0
    c = (c << 30) | (c >>> 2)
    t = w0 ^ w11 ^ w5 ^ w3
    w3 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w3) | 0
    b = (b << 30) | (b >>> 2)
    t = w1 ^ w12 ^ w6 ^ w4
    w4 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + 0x6ed9eba1 + w4) | 0
    a = (a << 30) | (a >>> 2)
    t = w2 ^ w13 ^ w7 ^ w5
    w5 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + 0x6ed9eba1 + w5) | 0
    e = (e << 30) | (e >>> 2)
    t = w3 ^ w14 ^ w8 ^ w6
    w6 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + 0x6ed9eba1 + w6) | 0
    d = (d << 30) | (d >>> 2)
    t = w4 ^ w15 ^ w9 ^ w7
    w7 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w7) | 0
    c = (c << 30) | (c >>> 2)
    t = w5 ^ w0 ^ w10 ^ w8
    w8 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + -0x70e44324 + w8) | 0
    b = (b << 30) | (b >>> 2)
    t = w6 ^ w1 ^ w11 ^ w9
    w9 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + -0x70e44324 + w9) | 0
    a = (a << 30) | (a >>> 2)
    t = w7 ^ w2 ^ w12 ^ w10
    w10 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + -0x70e44324 + w10) | 0
    e = (e << 30) | (e >>> 2)
    t = w8 ^ w3 ^ w13 ^ w11
    w11 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + -0x70e44324 + w11) | 0
    d = (d << 30) | (d >>> 2)
    t = w9 ^ w4 ^ w14 ^ w12
    w12 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + -0x70e44324 + w12) | 0
    c = (c << 30) | (c >>> 2)
    t = w10 ^ w5 ^ w15 ^ w13
    w13 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + -0x70e44324 + w13) | 0
    b = (b << 30) | (b >>> 2)
    t = w11 ^ w6 ^ w0 ^ w14
    w14 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + -0x70e44324 + w14) | 0
    a = (a << 30) | (a >>> 2)
    t = w12 ^ w7 ^ w1 ^ w15
    w15 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + -0x70e44324 + w15) | 0
    e = (e << 30) | (e >>> 2)
    t = w13 ^ w8 ^ w2 ^ w0
    w0 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + -0x70e44324 + w0) | 0
    d = (d << 30) | (d >>> 2)
    t = w14 ^ w9 ^ w3 ^ w1
    w1 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + -0x70e44324 + w1) | 0
    c = (c << 30) | (c >>> 2)
    t = w15 ^ w10 ^ w4 ^ w2
    w2 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + -0x70e44324 + w2) | 0
    b = (b << 30) | (b >>> 2)
    t = w0 ^ w11 ^ w5 ^ w3
    w3 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + -0x70e44324 + w3) | 0
    a = (a << 30) | (a >>> 2)
    t = w1 ^ w12 ^ w6 ^ w4
    w4 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + -0x70e44324 + w4) | 0
    e = (e << 30) | (e >>> 2)
    t = w2 ^ w13 ^ w7 ^ w5
    w5 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + -0x70e44324 + w5) | 0
    d = (d << 30) | (d >>> 2)
    t = w3 ^ w14 ^ w8 ^ w6
    w6 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + -0x70e44324 + w6) | 0
    c = (c << 30) | (c >>> 2)
    t = w4 ^ w15 ^ w9 ^ w7
    w7 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + ((b & c) | (d & (b | c))) + e + -0x70e44324 + w7) | 0
    b = (b << 30) | (b >>> 2)
    t = w5 ^ w0 ^ w10 ^ w8
    w8 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + ((a & b) | (c & (a | b))) + d + -0x70e44324 + w8) | 0
    a = (a << 30) | (a >>> 2)
    t = w6 ^ w1 ^ w11 ^ w9
    w9 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + ((e & a) | (b & (e | a))) + c + -0x70e44324 + w9) | 0
    e = (e << 30) | (e >>> 2)
    t = w7 ^ w2 ^ w12 ^ w10
    w10 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + ((d & e) | (a & (d | e))) + b + -0x70e44324 + w10) | 0
    d = (d << 30) | (d >>> 2)
    t = w8 ^ w3 ^ w13 ^ w11
    w11 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + ((c & d) | (e & (c | d))) + a + -0x70e44324 + w11) | 0
    c = (c << 30) | (c >>> 2)
    t = w9 ^ w4 ^ w14 ^ w12
    w12 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + -0x359d3e2a + w12) | 0
    b = (b << 30) | (b >>> 2)
    t = w10 ^ w5 ^ w15 ^ w13
    w13 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + -0x359d3e2a + w13) | 0
    a = (a << 30) | (a >>> 2)
    t = w11 ^ w6 ^ w0 ^ w14
    w14 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + -0x359d3e2a + w14) | 0
    e = (e << 30) | (e >>> 2)
    t = w12 ^ w7 ^ w1 ^ w15
    w15 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + -0x359d3e2a + w15) | 0
    d = (d << 30) | (d >>> 2)
    t = w13 ^ w8 ^ w2 ^ w0
    w0 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + -0x359d3e2a + w0) | 0
    c = (c << 30) | (c >>> 2)
    t = w14 ^ w9 ^ w3 ^ w1
    w1 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + -0x359d3e2a + w1) | 0
    b = (b << 30) | (b >>> 2)
    t = w15 ^ w10 ^ w4 ^ w2
    w2 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + -0x359d3e2a + w2) | 0
    a = (a << 30) | (a >>> 2)
    t = w0 ^ w11 ^ w5 ^ w3
    w3 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + -0x359d3e2a + w3) | 0
    e = (e << 30) | (e >>> 2)
    t = w1 ^ w12 ^ w6 ^ w4
    w4 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + -0x359d3e2a + w4) | 0
    d = (d << 30) | (d >>> 2)
    t = w2 ^ w13 ^ w7 ^ w5
    w5 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + -0x359d3e2a + w5) | 0
    c = (c << 30) | (c >>> 2)
    t = w3 ^ w14 ^ w8 ^ w6
    w6 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + -0x359d3e2a + w6) | 0
    b = (b << 30) | (b >>> 2)
    t = w4 ^ w15 ^ w9 ^ w7
    w7 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + -0x359d3e2a + w7) | 0
    a = (a << 30) | (a >>> 2)
    t = w5 ^ w0 ^ w10 ^ w8
    w8 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + -0x359d3e2a + w8) | 0
    e = (e << 30) | (e >>> 2)
    t = w6 ^ w1 ^ w11 ^ w9
    w9 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + -0x359d3e2a + w9) | 0
    d = (d << 30) | (d >>> 2)
    t = w7 ^ w2 ^ w12 ^ w10
    w10 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + -0x359d3e2a + w10) | 0
    c = (c << 30) | (c >>> 2)
    t = w8 ^ w3 ^ w13 ^ w11
    w11 = (t << 1) | (t >>> 31)
    e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + -0x359d3e2a + w11) | 0
    b = (b << 30) | (b >>> 2)
    t = w9 ^ w4 ^ w14 ^ w12
    w12 = (t << 1) | (t >>> 31)
    d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + -0x359d3e2a + w12) | 0
    a = (a << 30) | (a >>> 2)
    t = w10 ^ w5 ^ w15 ^ w13
    w13 = (t << 1) | (t >>> 31)
    c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + -0x359d3e2a + w13) | 0
    e = (e << 30) | (e >>> 2)
    t = w11 ^ w6 ^ w0 ^ w14
    w14 = (t << 1) | (t >>> 31)
    b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + -0x359d3e2a + w14) | 0
    d = (d << 30) | (d >>> 2)
    t = w12 ^ w7 ^ w1 ^ w15
    w15 = (t << 1) | (t >>> 31)
    a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + -0x359d3e2a + w15) | 0
    c = (c << 30) | (c >>> 2)
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
  }
  h[0] = h0
  h[1] = h1
  h[2] = h2
  h[3] = h3
  h[4] = h4
}

// ---------------------------------------------------------------------------------------------
// hasher
// ---------------------------------------------------------------------------------------------

/** @internal byte length of the fixed prefix of an exported state: 20 bytes of state + 8 bytes of length */
export const STATE_PREFIX = 28

const TWO_32 = 4294967296

class PureSha1 implements Sha1Hasher {
  readonly h = new Int32Array(5)
  readonly block = new Uint8Array(64)
  readonly blockView = new DataView(this.block.buffer)
  blockLen = 0
  length = 0
  // scratch space for a non-destructive finalisation
  readonly fh = new Int32Array(5)
  readonly pad = new Uint8Array(128)
  readonly padView = new DataView(this.pad.buffer)

  constructor() {
    this.h.set(INIT)
  }

  get byteLength(): number {
    return this.length
  }

  update(bytes: Uint8Array): void {
    const n = bytes.length
    if (n === 0) return
    this.length += n
    let i = 0
    let fill = this.blockLen
    if (fill > 0) {
      const block = this.block
      while (fill < 64 && i < n) block[fill++] = bytes[i++]!
      if (fill < 64) {
        this.blockLen = fill
        return
      }
      compress(this.h, this.blockView, 0, 64)
      fill = 0
    }
    const rest = n - i
    const full = rest - (rest % 64)
    if (full > 0) {
      compress(this.h, new DataView(bytes.buffer, bytes.byteOffset, n), i, i + full)
      i += full
    }
    const block = this.block
    while (i < n) block[fill++] = bytes[i++]!
    this.blockLen = fill
  }

  state(): string {
    return hexLE(this.h)
  }

  private finish(): Int32Array {
    const fh = this.fh
    const pad = this.pad
    const len = this.blockLen
    fh.set(this.h)
    pad.fill(0)
    pad.set(this.block.subarray(0, len))
    pad[len] = 0x80
    const end = len < 56 ? 64 : 128
    // message length in bits as a 64-bit big-endian integer
    this.padView.setUint32(end - 8, Math.floor(this.length / 536870912))
    this.padView.setUint32(end - 4, (this.length * 8) >>> 0)
    compress(fh, this.padView, 0, end)
    return fh
  }

  digest(): string {
    return hexBE(this.finish())
  }

  digestBytes(): Uint8Array {
    const fh = this.finish()
    const out = new Uint8Array(20)
    const view = new DataView(out.buffer)
    for (let i = 0; i < 5; i++) view.setInt32(i * 4, fh[i]!)
    return out
  }

  clone(): Sha1Hasher {
    const copy = new PureSha1()
    copy.h.set(this.h)
    copy.block.set(this.block)
    copy.blockLen = this.blockLen
    copy.length = this.length
    return copy
  }

  exportState(): Uint8Array {
    const out = new Uint8Array(STATE_PREFIX + this.blockLen)
    const view = new DataView(out.buffer)
    for (let i = 0; i < 5; i++) view.setInt32(i * 4, this.h[i]!, true)
    view.setUint32(20, this.length % TWO_32, true)
    view.setUint32(24, Math.floor(this.length / TWO_32), true)
    out.set(this.block.subarray(0, this.blockLen), STATE_PREFIX)
    return out
  }
}

/** @internal */
export const make = (): Sha1Hasher => new PureSha1()

/**
 * Decodes the portable state format: the byte length, or `None` when the bytes are not a valid state.
 *
 * @internal
 */
export const decodeStateLength = (state: Uint8Array): Option.Option<number> => {
  if (state.length < STATE_PREFIX) return Option.none()
  const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
  const high = view.getUint32(24, true)
  if (high >= 2097152) return Option.none() // beyond Number.MAX_SAFE_INTEGER
  const length = high * TWO_32 + view.getUint32(20, true)
  return state.length === STATE_PREFIX + (length % 64) ? Option.some(length) : Option.none()
}

/** @internal */
export const fromState = (state: Uint8Array): Option.Option<Sha1Hasher> =>
  Option.map(decodeStateLength(state), (length) => {
    const hasher = new PureSha1()
    const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
    for (let i = 0; i < 5; i++) hasher.h[i] = view.getInt32(i * 4, true)
    hasher.length = length
    hasher.blockLen = length % 64
    hasher.block.set(state.subarray(STATE_PREFIX))
    return hasher
  })

// ---------------------------------------------------------------------------------------------
// uploadparts
// ---------------------------------------------------------------------------------------------

/** @internal */
export const isValidGranularity = (granularity: number): boolean =>
  Number.isSafeInteger(granularity) && granularity > 0 && granularity % 64 === 0

const invalidGranularity = (granularity: number) =>
  new InvalidArgument({
    reason: "InvalidSliceSize",
    argument: "granularity",
    detail: `the uploadparts granularity must be a positive multiple of 64 bytes, got ${granularity}`
  })

class Builder implements UploadPartsBuilder {
  readonly done: Array<UploadPart> = []
  offset = 0
  partStart = 0
  // the state at the end of the part just before `partStart`, held back until we know more bytes follow
  pending: string | undefined = undefined

  constructor(readonly granularity: number, readonly hasher: Sha1Hasher) {}

  get byteLength(): number {
    return this.offset
  }

  get parts(): ReadonlyArray<UploadPart> {
    return this.done
  }

  update(bytes: Uint8Array): void {
    const n = bytes.length
    if (n === 0) return
    const g = this.granularity
    if (this.pending !== undefined) {
      this.done.push({ offset: this.partStart - g, datalen: g, datasha: this.pending })
      this.pending = undefined
    }
    let i = 0
    while (i < n) {
      const toBoundary = this.partStart + g - this.offset
      if (n - i < toBoundary) {
        this.hasher.update(i === 0 ? bytes : bytes.subarray(i))
        this.offset += n - i
        return
      }
      this.hasher.update(i === 0 && toBoundary === n ? bytes : bytes.subarray(i, i + toBoundary))
      i += toBoundary
      this.offset += toBoundary
      this.partStart = this.offset
      const state = this.hasher.state()
      if (i < n) this.done.push({ offset: this.offset - g, datalen: g, datasha: state })
      else this.pending = state
    }
  }

  updateAsync(bytes: Uint8Array, done: () => void): void {
    const n = bytes.length
    const toBoundary = this.partStart + this.granularity - this.offset
    const updateAsync = this.hasher.updateAsync
    if (n === 0 || n > toBoundary || updateAsync === undefined) {
      this.update(bytes)
      return done()
    }
    if (this.pending !== undefined) {
      this.done.push({ offset: this.partStart - this.granularity, datalen: this.granularity, datasha: this.pending })
      this.pending = undefined
    }
    updateAsync.call(this.hasher, bytes, () => {
      this.offset += n
      if (n === toBoundary) {
        this.partStart = this.offset
        this.pending = this.hasher.state()
      }
      done()
    })
  }

  get updateFileAsync(): UploadPartsBuilder["updateFileAsync"] {
    const updateFile = this.hasher.updateFileAsync
    if (updateFile === undefined) return undefined
    return (file, done) =>
      updateFile.call(this.hasher, file, this.granularity, (result) => {
        const g = this.granularity
        // a held-back state is final once more bytes followed it: a later boundary, or bytes past the last one
        const settle = () => {
          if (this.pending !== undefined) {
            this.done.push({ offset: this.partStart - g, datalen: g, datasha: this.pending })
          }
          this.pending = undefined
        }
        for (const state of result.states) {
          settle()
          this.partStart += g
          this.pending = state
        }
        this.offset += result.bytesRead
        if (this.offset > this.partStart) {
          settle()
        }
        done(result)
      })
  }

  sha(): string {
    return this.hasher.digest()
  }

  finish(): Array<UploadPart> {
    const all = this.done.slice()
    if (this.pending !== undefined) {
      all.push({ offset: this.partStart - this.granularity, datalen: this.granularity, datasha: this.hasher.digest() })
    } else if (this.offset > this.partStart) {
      all.push({ offset: this.partStart, datalen: this.offset - this.partStart, datasha: this.hasher.digest() })
    }
    return all
  }
}

/** @internal */
export const uploadPartsBuilder = (
  granularity: number,
  makeHasher: () => Sha1Hasher = make
): Either.Either<UploadPartsBuilder, InvalidArgument> =>
  isValidGranularity(granularity)
    ? Either.right(new Builder(granularity, makeHasher()))
    : Either.left(invalidGranularity(granularity))

/** @internal */
export const uploadParts = (
  input: Uint8Array | Iterable<Uint8Array>,
  granularity: number,
  makeHasher: () => Sha1Hasher = make
): Either.Either<Array<UploadPart>, InvalidArgument> =>
  Either.map(uploadPartsBuilder(granularity, makeHasher), (builder) => {
    if (input instanceof Uint8Array) builder.update(input)
    else for (const chunk of input) builder.update(chunk)
    return builder.finish()
  })
