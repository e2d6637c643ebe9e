/**
 * The running SHA-1 of slice uploads (hashed while slices arrive; finish hashes only what is left): slices out of
 * order, re-sent slices with other bytes, `uploadparts` states, on disk and in-memory storage.
 */
import * as CosError from "@cos-v4/core/CosError"
import * as Sha1 from "@cos-v4/core/Sha1"
import * as NativeSha1 from "@cos-v4/native/NativeSha1"
import { afterAll, assert, describe, layer, type Vitest } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Emulator from "../src/Emulator.js"
import * as EmulatorStorage from "../src/EmulatorStorage.js"
import * as h from "./helpers.js"

const KiB512 = 524288
const call = <A>(f: () => Promise<A>) => Effect.promise(f)
const form = (p: number, path: string, fields: Record<string, string>, payload?: Buffer) =>
  call(() =>
    h.postMultipart(p, h.url(path), [
      ...Object.entries(fields).map(([name, value]) => ({ name, value })),
      ...(payload === undefined ? [] : [{ name: "filecontent", value: payload }])
    ])
  )

/** Offsets of a file in 512 KiB slices, in a scrambled order (neighbours swapped, a reversed run in the middle). */
const scrambled = (size: number): Array<number> => {
  const offsets: Array<number> = []
  for (let off = 0; off < size; off += KiB512) offsets.push(off)
  for (let i = 0; i + 1 < offsets.length; i += 4) [offsets[i], offsets[i + 1]] = [offsets[i + 1]!, offsets[i]!]
  const mid = offsets.splice(6, 8).reverse()
  offsets.splice(6, 0, ...mid)
  return offsets
}

/** init, the slices in `order` (each with the bytes `bytesAt(offset)`), then finish with `sha`. */
const sliceUpload = (
  p: number,
  path: string,
  file: Buffer,
  order: ReadonlyArray<number>,
  options: {
    readonly initFields?: Record<string, string>
    readonly sha?: string
    readonly bytesAt?: (offset: number) => Buffer
    readonly before?: (session: string) => Effect.Effect<void>
  } = {}
) =>
  Effect.gen(function*() {
    const i = yield* form(p, path, {
      op: "upload_slice_init",
      filesize: String(file.length),
      slice_size: String(KiB512),
      ...options.initFields
    })
    assert.strictEqual(i.json.code, 0, JSON.stringify(i.json))
    const session: string = i.json.data.session
    for (const off of order) {
      const bytes = options.bytesAt?.(off) ?? file.subarray(off, off + KiB512)
      const d = yield* form(p, path, { op: "upload_slice_data", session, offset: String(off) }, bytes)
      assert.strictEqual(d.json.code, 0, JSON.stringify(d.json))
    }
    if (options.before !== undefined) yield* options.before(session)
    return yield* form(p, path, {
      op: "upload_slice_finish",
      session,
      filesize: String(file.length),
      sha: options.sha ?? h.sha1(file)
    })
  })

const cases = (it: Vitest.MethodsNonLive<Emulator.Emulator, true>) => {
  const port = Effect.map(Emulator.Emulator, (e) => e.port)

  it.effect("slices out of order: the stored sha is the file's; a wrong sha is refused", () =>
    Effect.gen(function*() {
      const p = yield* port
      // 20.5 slices, more than the out-of-order slices held per session
      const file = h.patternFile(20 * KiB512 + 1000)
      const order = scrambled(file.length)
      const ok = yield* sliceUpload(p, "/h/a.bin", file, order)
      assert.strictEqual(ok.json.code, 0, JSON.stringify(ok.json))
      const st = yield* call(() => h.get(p, `${h.url("/h/a.bin")}?op=stat`))
      assert.strictEqual(st.json.data.sha, h.sha1(file))
      const other = Buffer.from(file)
      other[other.length - 1] = other[other.length - 1]! ^ 1
      const bad = yield* sliceUpload(p, "/h/b.bin", other, order, { sha: h.sha1(file) })
      assert.strictEqual(bad.json.code, CosError.codeOf("ShaMismatch").code, JSON.stringify(bad.json))
    }))

  it.effect("a slice re-sent with other bytes after it was hashed: finish hashes what is stored", () =>
    Effect.gen(function*() {
      const p = yield* port
      const file = h.patternFile(18 * KiB512)
      const wrong = Buffer.alloc(KiB512, 0x5a)
      const inOrder = Array.from({ length: 18 }, (_, k) => k * KiB512)
      // first the wrong bytes at offset 0 (hashed at once), then every slice (the right bytes at 0 again)
      const fixed = yield* sliceUpload(p, "/h/c.bin", file, [0, ...inOrder], {
        bytesAt: (() => {
          let first = true
          return (off: number) => {
            if (off === 0 && first) {
              first = false
              return wrong
            }
            return file.subarray(off, off + KiB512)
          }
        })()
      })
      assert.strictEqual(fixed.json.code, 0, JSON.stringify(fixed.json))
      // the other way round: the right bytes are hashed, then replaced by wrong ones
      const broken = yield* sliceUpload(p, "/h/d.bin", file, [...inOrder, 3 * KiB512], {
        bytesAt: (() => {
          let seen = 0
          return (off: number) => off === 3 * KiB512 && seen++ === 1 ? wrong : file.subarray(off, off + KiB512)
        })()
      })
      assert.strictEqual(broken.json.code, CosError.codeOf("ShaMismatch").code, JSON.stringify(broken.json))
    }))

  it.effect("uploadparts: states checked at their granularity, slices out of order (also beyond the held bound)", () =>
    Effect.gen(function*() {
      const p = yield* port
      const file = h.patternFile(20 * KiB512 + 77)
      // granularity 1 MiB (two slices per part), the slices of which arrive scrambled
      const parts = Either.getOrThrow(Sha1.uploadParts(file, 2 * KiB512))
      const uploadparts = JSON.stringify(parts)
      const ok = yield* sliceUpload(p, "/h/e.bin", file, scrambled(file.length), { initFields: { uploadparts } })
      assert.strictEqual(ok.json.code, 0, JSON.stringify(ok.json))
      // every slice but the first, backwards, then the first: more out-of-order slices than are held
      const offsets = Array.from({ length: 21 }, (_, k) => k * KiB512)
      const backwards = [...offsets.slice(1).reverse(), 0]
      const file2 = Buffer.concat([file.subarray(0, 100), Buffer.from([1]), file.subarray(101)])
      const parts2 = Either.getOrThrow(Sha1.uploadParts(file2, 2 * KiB512))
      const ok2 = yield* sliceUpload(p, "/h/f.bin", file2, backwards, {
        initFields: { uploadparts: JSON.stringify(parts2) }
      })
      assert.strictEqual(ok2.json.code, 0, JSON.stringify(ok2.json))
      // a wrong intermediate state is still found (new content, so that no instant upload applies)
      const file3 = Buffer.concat([file2.subarray(0, 100), Buffer.from([2]), file2.subarray(101)])
      const parts3 = Either.getOrThrow(Sha1.uploadParts(file3, 2 * KiB512))
      const wrongParts = parts3.map((x, k) => k === 3 ? { ...x, datasha: "c".repeat(40) } : x)
      const bad = yield* sliceUpload(p, "/h/g.bin", file3, scrambled(file3.length), {
        initFields: { uploadparts: JSON.stringify(wrongParts) }
      })
      assert.strictEqual(bad.json.code, CosError.codeOf("PartsMismatch").code, JSON.stringify(bad.json))
    }))
}

describe("running SHA-1", () => {
  const diskDir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "cos-emu-hash-"))
  const nativeDir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "cos-emu-hash-"))
  afterAll(() => {
    for (const dir of [diskDir, nativeDir]) fs.rmSync(dir, { recursive: true, force: true })
  })
  describe("disk storage", () => {
    layer(
      Emulator.layer({ port: 0 }).pipe(Layer.provide(EmulatorStorage.layerDisk({ dataDir: diskDir }))),
      { excludeTestServices: true }
    )(cases)
  })
  describe("memory storage", () => {
    layer(Emulator.layerTest(), { excludeTestServices: true })(cases)
  })
  // the native SHA-1 hashes plain uploads on its hashing thread (updateAsync), as `pnpm emulator` runs it
  describe("disk storage, native SHA-1 on its hashing thread", () => {
    layer(
      Emulator.layer({ port: 0 }).pipe(
        Layer.provide(EmulatorStorage.layerDisk({ dataDir: nativeDir })),
        Layer.provide(NativeSha1.layer)
      ),
      { excludeTestServices: true }
    )(cases)
  })
})
