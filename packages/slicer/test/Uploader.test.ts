import * as Sha1 from "@cos-v4/core/Sha1"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Uploader from "../src/Uploader.js"
import * as UploadSource from "../src/UploadSource.js"
import * as Fake from "./fakeServer.js"

const S = 1024 // slice size used by the tests (a multiple of 64, as uploadparts needs)
const sliceOpts = { sliceSize: S, simpleUploadThreshold: 0 } as const

const run = <A, E>(server: Fake.FakeServer, effect: Effect.Effect<A, E, Uploader.Requirements>) =>
  Effect.provide(effect, Fake.layer(server))

describe("Uploader: sizes and integrity modes", () => {
  for (const integrity of ["sha-at-init", "inline"] as const) {
    for (const size of [1, S - 1, S, S + 1, 5 * S, 7 * S + 13]) {
      it.effect(`${integrity}: ${size} bytes by slices`, () =>
        Effect.gen(function*() {
          const server = Fake.make()
          const data = Fake.bytes(size, size)
          const receipt = yield* run(
            server,
            Uploader.upload(UploadSource.fromUint8Array(data), "/dir/f.bin", { ...sliceOpts, integrity })
          )
          const stored = server.files.get("/dir/f.bin")
          assert.isDefined(stored)
          assert.deepStrictEqual(stored!.bytes, data)
          assert.strictEqual(receipt.sha1, Fake.sha1Hex(data))
          assert.strictEqual(receipt.sliceCount, Math.ceil(size / S))
          assert.strictEqual(receipt.slicesSent, Math.ceil(size / S))
          assert.strictEqual(receipt.bytesSent, size)
          assert.strictEqual(receipt.integrity, integrity)
          assert.strictEqual(receipt.verifiedBy, integrity === "inline" ? "stat" : "server")
          assert.isFalse(receipt.simple)
          // each slice went exactly once, at its offset
          assert.deepStrictEqual(
            server.sentOffsets().sort((a, b) => a - b),
            Array.from({ length: Math.ceil(size / S) }, (_, i) => i * S)
          )
          const init = server.ops("upload_slice_init")[0]!
          const finish = server.ops("upload_slice_finish")[0]!
          if (integrity === "sha-at-init") {
            assert.strictEqual(init.fields.sha, receipt.sha1)
            assert.strictEqual(finish.fields.sha, receipt.sha1)
            const parts = JSON.parse(init.fields.uploadparts!) as Array<{ datasha: string }>
            assert.deepStrictEqual(parts, Sha1.uploadParts(data, S).pipe((e) => e._tag === "Right" ? e.right : []))
          } else {
            assert.isUndefined(init.fields.sha)
            assert.isUndefined(finish.fields.sha)
            assert.strictEqual(server.ops("stat").length, 1)
          }
          // the session was the server's and the checkpoint was cleared (nothing left in progress)
          assert.strictEqual(server.sessions.size, 0)
        }))
    }
  }

  it.effect("a 0-byte file goes through the simple upload", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const receipt = yield* run(server, Uploader.upload(UploadSource.fromUint8Array(new Uint8Array(0)), "/empty"))
      assert.isTrue(receipt.simple)
      assert.strictEqual(receipt.fileSize, 0)
      assert.strictEqual(receipt.sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")
      assert.strictEqual(server.files.get("/empty")?.bytes.length, 0)
      assert.strictEqual(server.ops("upload").length, 1)
    }))

  it.effect("a 0-byte file by slices: init and finish, no slice", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const receipt = yield* run(
        server,
        Uploader.upload(UploadSource.fromUint8Array(new Uint8Array(0)), "/empty", {
          sliceSize: S,
          simpleUploadThreshold: -1
        })
      )
      assert.isFalse(receipt.simple)
      assert.strictEqual(receipt.sliceCount, 0)
      assert.strictEqual(server.sentOffsets().length, 0)
      assert.strictEqual(server.files.get("/empty")?.bytes.length, 0)
    }))

  it.effect("small files use op=upload with the sha; larger ones slices", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const small = Fake.bytes(3000)
      const receipt = yield* run(
        server,
        Uploader.upload(UploadSource.fromUint8Array(small), "/s.bin", { simpleUploadThreshold: 3000 })
      )
      assert.isTrue(receipt.simple)
      assert.strictEqual(server.ops("upload")[0]!.fields.sha, Fake.sha1Hex(small))
      assert.strictEqual(server.ops("upload")[0]!.fields.insertonly, "1")
      assert.deepStrictEqual(server.files.get("/s.bin")!.bytes, small)
      const big = yield* run(
        server,
        Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(3001)), "/b.bin", {
          simpleUploadThreshold: 3000,
          sliceSize: S
        })
      )
      assert.isFalse(big.simple)
      assert.strictEqual(big.sliceCount, 3)
    }))

  it.effect("the server's slice size wins", () =>
    Effect.gen(function*() {
      const server = Fake.make({ sliceSize: 2 * S })
      const data = Fake.bytes(5 * S)
      const receipt = yield* run(server, Uploader.upload(UploadSource.fromUint8Array(data), "/x", sliceOpts))
      assert.strictEqual(receipt.sliceSize, 2 * S)
      assert.strictEqual(receipt.sliceCount, 3)
      assert.deepStrictEqual(server.files.get("/x")!.bytes, data)
    }))

  it.effect("a stream source with odd chunks is uploaded inline", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const data = Fake.bytes(4 * S + 100)
      const chunks: Array<Uint8Array> = []
      for (let i = 0; i < data.length; i += 333) chunks.push(data.subarray(i, i + 333))
      const receipt = yield* run(
        server,
        Uploader.upload(UploadSource.fromStream(Stream.fromIterable(chunks), data.length), "/st", sliceOpts)
      )
      assert.strictEqual(receipt.integrity, "inline")
      assert.deepStrictEqual(server.files.get("/st")!.bytes, data)
    }))

  it.effect("a stream shorter than announced fails with SourceError SizeMismatch", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const error = yield* Effect.flip(run(
        server,
        Uploader.upload(UploadSource.fromStream(Stream.make(Fake.bytes(2 * S)), 3 * S), "/st", sliceOpts)
      ))
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") {
        assert.strictEqual(error.reason, "Terminal")
        assert.strictEqual(error.failures.at(-1)?.tag, "SourceError")
        assert.strictEqual(error.failures.at(-1)?.reason, "SizeMismatch")
      }
    }))

  it.effect("serial_upload=1 keeps one slice in flight", () =>
    Effect.gen(function*() {
      const server = Fake.make({ serialUpload: 1 })
      server.yields = (r) => r.index % 3
      yield* run(
        server,
        Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(12 * S)), "/x", { ...sliceOpts, concurrency: 4 })
      )
      assert.strictEqual(server.maxInFlight, 1)
    }))

  it.effect("instant upload: init answers access info, no slice is sent", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const data = Fake.bytes(6 * S)
      yield* run(server, Uploader.upload(UploadSource.fromUint8Array(data), "/a", sliceOpts))
      const before = server.log.length
      const receipt = yield* run(server, Uploader.upload(UploadSource.fromUint8Array(data), "/b", sliceOpts))
      assert.isTrue(receipt.instant)
      assert.strictEqual(receipt.slicesSent, 0)
      assert.deepStrictEqual(server.log.slice(before).map((e) => e.op), ["upload_slice_init"])
      assert.deepStrictEqual(server.files.get("/b")!.bytes, data)
    }))

  it.effect("inline mode: a stored sha that differs from ours fails the upload", () =>
    Effect.gen(function*() {
      const server = Fake.make({ tamper: true })
      const error = yield* Effect.flip(run(
        server,
        Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(3 * S)), "/t", { ...sliceOpts, integrity: "inline" })
      ))
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") assert.strictEqual(error.failures.at(-1)?.reason, "Changed")
    }))

  it.effect("sha-at-init hashes first (Hashing events before Initialised)", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const list = yield* Uploader.uploadWithProgress(
        UploadSource.fromUint8Array(Fake.bytes(3 * S + 1)),
        "/h",
        sliceOpts
      )
        .pipe(Stream.runCollect, Effect.provide(Fake.layer(server)))
      const tags = Chunk.toReadonlyArray(list).map((e) => e._tag)
      assert.deepStrictEqual(tags.slice(0, 5), ["Hashing", "Hashing", "Hashing", "Hashing", "Initialised"])
      const last = Chunk.toReadonlyArray(list)[3]
      assert.deepStrictEqual(last?._tag === "Hashing" ? [last.bytesHashed, last.totalBytes] : [], [
        3 * S + 1,
        3 * S + 1
      ])
    }))

  it.effect("a slice size that is not a multiple of 64 is refused up front", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const error = yield* Effect.flip(
        run(server, Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(10)), "/x", { sliceSize: 1000 }))
      )
      assert.deepStrictEqual(error._tag === "InvalidArgument" ? error.reason : undefined, "InvalidSliceSize")
      assert.strictEqual(server.log.length, 0)
    }))

  it.effect("an invalid target fails before anything is sent", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const error = yield* Effect.flip(
        run(server, Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(1)), "/dir/"))
      )
      assert.strictEqual(error._tag, "InvalidArgument")
      assert.strictEqual(server.log.length, 0)
    }))
})

describe("Uploader: memory and concurrency", () => {
  it.effect("never more than concurrency + 1 buffers; bodies are slices of the pooled buffers", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.yields = (r) => (r.index * 7) % 5
      const concurrency = 3
      const receipt = yield* run(
        server,
        Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(40 * S + 5)), "/m", { ...sliceOpts, concurrency })
      )
      const buffers = new Set(server.ops("upload_slice_data").map((e) => e.bodyBuffer))
      assert.isAtMost(buffers.size, concurrency + 1)
      assert.isAtMost(server.maxInFlight, concurrency)
      assert.isAtLeast(server.maxInFlight, 2)
      assert.strictEqual(receipt.buffers.count, concurrency + 1)
      assert.isAtMost(receipt.buffers.peakInUse, concurrency + 1)
      // the multipart body is head + slice + tail, exactly
      for (const e of server.ops("upload_slice_data")) {
        assert.isAbove(e.bodyLength, e.content!.length)
        assert.isBelow(e.bodyLength, e.content!.length + 1024)
      }
    }))
})
