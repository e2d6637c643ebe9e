import * as Sha1 from "@cos-v4/core/Sha1"
import * as Emulator from "@cos-v4/emulator/Emulator"
import * as Cos from "@cos-v4/slicer/Cos"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import { afterAll, assert, describe, layer } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as NodeCos from "../src/NodeCos.js"
import * as NodeSha1 from "../src/NodeSha1.js"
import * as NodeUploadSource from "../src/NodeUploadSource.js"
import {
  appId,
  bucket,
  credentials,
  emulatorCredentials,
  MiB,
  secretId,
  secretKey,
  sha1OfFile,
  tempDir,
  writeFile
} from "./helpers.js"

const dir = tempDir("e2e")
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))
const slice = MiB

const sizes: ReadonlyArray<readonly [string, number]> = [
  ["0", 0],
  ["1", 1],
  ["slice-1", slice - 1],
  ["slice", slice],
  ["slice+1", slice + 1],
  ["5 slices", 5 * slice],
  ["20 MiB + 1", 20 * MiB + 1],
  ["100 MiB", 100 * MiB]
]

const integrities: ReadonlyArray<UploadOptions.Integrity> = ["sha-at-init", "inline"]

/** The client's layers against the emulator at `url`, with checkpoints in `dir/<checkpoints>`. */
const cosLayer = (url: string, checkpoints: string) =>
  NodeCos.layer({ endpoint: url, appId, bucket, credentials, checkpointDir: Path.join(dir, checkpoints) })

layer(Emulator.layerTest({ appId, buckets: [bucket], credentials: emulatorCredentials, auth: "strict" }), {
  timeout: 60_000,
  excludeTestServices: true // the emulator and the client processes share the real clock (signature times)
})("upload end to end against the emulator", (it) => {
  describe.each(integrities)("integrity %s", (integrity) => {
    it.effect.each(sizes)("%s: the receipt and stat carry the file's SHA-1", ([_name, size]) =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const file = Path.join(dir, `f-${size}.bin`)
        if (!Fs.existsSync(file)) writeFile(file, size, size % 97)
        const expected = sha1OfFile(file)
        const target = `/e2e/${integrity}/${size}.bin`
        const cos = cosLayer(emulator.url, "checkpoints")
        const run = Effect.gen(function*() {
          // small sizes go through the slice protocol too (threshold 0) unless empty
          const receipt = yield* Uploader.upload(NodeUploadSource.fromFile(file), target, {
            integrity,
            sliceSize: slice,
            simpleUploadThreshold: 0
          })
          const stat = yield* Cos.stat(target)
          return { receipt, stat }
        })
        const { receipt, stat } = yield* Effect.provide(run, cos)
        assert.strictEqual(receipt.sha1, expected)
        assert.strictEqual(receipt.fileSize, size)
        assert.strictEqual(stat.sha, expected)
        assert.strictEqual(stat.filesize ?? stat.filelen, size)
        if (size > 0) {
          assert.strictEqual(receipt.integrity, integrity)
          assert.strictEqual(receipt.sliceCount, Math.ceil(size / slice))
          assert.strictEqual(receipt.slicesSent + receipt.slicesSkipped, receipt.sliceCount)
        }
        // the pass before init is part of the duration; inline hashes while sending
        assert.isTrue(receipt.hashingMillis <= receipt.durationMillis, JSON.stringify(receipt))
        if (integrity === "inline" || size === 0) assert.strictEqual(receipt.hashingMillis, 0)
        else if (size >= 100 * MiB) assert.isTrue(receipt.hashingMillis > 0, `${receipt.hashingMillis} ms`)
      }))
  })

  it.effect("uploadFile through NodeFileSystem (the layer's FileSystem) stores the same content", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = writeFile(Path.join(dir, "fs.bin"), 3 * slice + 17, 5)
      const receipt = yield* Uploader.uploadFile(file, "/e2e/fs.bin", { simpleUploadThreshold: 0 }).pipe(
        Effect.provide(cosLayer(emulator.url, "cp2"))
      )
      assert.strictEqual(receipt.sha1, sha1OfFile(file))
    }))

  it.effect("layerConfig assembles everything from Config (COS_* names), concurrency included", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = writeFile(Path.join(dir, "config.bin"), 2 * slice + 5, 9)
      const provider = ConfigProvider.fromMap(
        new Map([
          ["COS_ENDPOINT", emulator.url],
          ["COS_APPID", appId],
          ["COS_BUCKET", bucket],
          ["COS_SECRET_ID", secretId],
          ["COS_SECRET_KEY", secretKey],
          ["COS_CHECKPOINT_DIR", Path.join(dir, "cp3")],
          ["COS_CONCURRENCY", "3"]
        ])
      )
      const { concurrency, receipt } = yield* Effect.gen(function*() {
        const receipt = yield* Uploader.upload(NodeUploadSource.fromFile(file), "/e2e/config.bin", {
          simpleUploadThreshold: 0
        })
        return { receipt, concurrency: yield* UploadOptions.Concurrency }
      }).pipe(Effect.provide(NodeCos.layerConfig()), Effect.withConfigProvider(provider))
      assert.strictEqual(receipt.sha1, sha1OfFile(file))
      assert.strictEqual(concurrency, 3)
    }))

  it.effect.each(integrities)(
    "%s: the file is read and hashed by native jobs; a file cut short meanwhile fails typed, nothing stored",
    (integrity) =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const file = writeFile(Path.join(dir, `shrinks-${integrity}.bin`), 70 * MiB + 3, 11)
        // the native hasher, except that the file loses its tail when the first file job starts
        let fileJobs = 0
        const shrinking = Layer.effect(
          Sha1.Sha1,
          Effect.map(NodeSha1.make, (sha1): Sha1.Sha1.Service => ({
            ...sha1,
            make: () => {
              const hasher = sha1.make()
              const updateFile = hasher.updateFileAsync!
              return Object.assign(Object.create(Object.getPrototypeOf(hasher)), hasher, {
                updateFileAsync: (range: Sha1.FileRange, boundary: number, done: (r: Sha1.FileUpdate) => void) => {
                  if (fileJobs++ === 0) Fs.truncateSync(file, 65 * MiB)
                  updateFile(range, boundary, done)
                }
              })
            }
          }))
        )
        const cos = cosLayer(emulator.url, `cp-shrinks-${integrity}`)
        const target = `/e2e/shrinks-${integrity}.bin`
        const failure = yield* Uploader.upload(NodeUploadSource.fromFile(file), target, {
          integrity,
          sliceSize: slice,
          simpleUploadThreshold: 0
        }).pipe(Effect.flip, Effect.provide(shrinking), Effect.provide(cos))
        assert.strictEqual(failure._tag, "UploadFailed")
        // sha-at-init: two pre-pass jobs of 64 MiB; inline: one job per slice up to the new end
        assert.isTrue(fileJobs >= (integrity === "inline" ? 66 : 2), `${fileJobs} file jobs`)
        const cause = failure._tag === "UploadFailed" ? failure.failures.at(-1) : undefined
        assert.deepStrictEqual([cause?.tag, cause?.reason], ["SourceError", "SizeMismatch"])
        assert.match(cause?.message ?? "", /the file ended at 68157440: the source shrank/)
        const stat = yield* Effect.provide(Cos.stat(target), cos).pipe(Effect.either)
        if (integrity === "sha-at-init") {
          // nothing at the target: not even an init was sent
          assert.isTrue(Either.isLeft(stat) && stat.left._tag === "ServerError", String(stat))
        } else {
          // an unfinished upload holding the slices acknowledged before the cut (kept to resume), no sha
          assert.isTrue(Either.isRight(stat), String(stat))
          if (Either.isRight(stat)) {
            assert.deepStrictEqual([stat.right.filesize, stat.right.filelen, stat.right.sha], [
              70 * MiB + 3,
              65 * MiB,
              ""
            ])
          }
        }
      })
  )

  it.effect("layerConfig fails with a ConfigError when a setting is missing", () =>
    Effect.gen(function*() {
      const provider = ConfigProvider.fromMap(new Map([["COS_ENDPOINT", "http://127.0.0.1:1"]]))
      const exit = yield* Effect.exit(
        Effect.provide(UploadOptions.Concurrency, NodeCos.layerConfig()).pipe(Effect.withConfigProvider(provider))
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(exit), /COS_APPID/)
    }))
})
