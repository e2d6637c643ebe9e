import type * as Signature from "@cos-v4/core/Signature"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export const appId = "1250000000"
export const bucket = "e2e"
export const secretId = "AKIDnodeTest"
export const secretKey = "node-test-key"
export const credentials: Signature.Credentials = { appId, secretId, secretKey: Redacted.make(secretKey) }
export const emulatorCredentials = [{ secretId, secretKey: Redacted.make(secretKey) }]

export const MiB = 1024 * 1024

export const tempDir = (prefix: string): string => Fs.mkdtempSync(Path.join(Os.tmpdir(), `cos-v4-node-${prefix}-`))

/**
 * A file of `size` bytes with deterministic content that differs per MiB block (so a misplaced slice changes
 * the SHA-1): byte i of block b is (i * 31 + b * 7 + seed) mod 251.
 */
export const writeFile = (path: string, size: number, seed = 0): string => {
  const fd = Fs.openSync(path, "w")
  try {
    const block = Buffer.allocUnsafe(MiB)
    for (let offset = 0, b = 0; offset < size; offset += MiB, b++) {
      const n = Math.min(MiB, size - offset)
      for (let i = 0; i < n; i++) block[i] = (i * 31 + b * 7 + seed) % 251
      Fs.writeSync(fd, block, 0, n, offset)
    }
  } finally {
    Fs.closeSync(fd)
  }
  return path
}

export const sha1OfFile = (path: string): string => {
  const hash = Crypto.createHash("sha1")
  const fd = Fs.openSync(path, "r")
  try {
    const buf = Buffer.allocUnsafe(4 * MiB)
    for (;;) {
      const n = Fs.readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      hash.update(buf.subarray(0, n))
    }
  } finally {
    Fs.closeSync(fd)
  }
  return hash.digest("hex")
}
