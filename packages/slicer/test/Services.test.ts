import * as Signature from "@cos-v4/core/Signature"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as CheckpointStore from "../src/CheckpointStore.js"
import * as CosConfig from "../src/CosConfig.js"
import * as Signer from "../src/Signer.js"
import * as UploadSource from "../src/UploadSource.js"
import * as Fake from "./fakeServer.js"

const target = "/d/f.bin" as Parameters<Signer.Signer.Service["sign"]>[0]["path"]
const signerLayer = (options?: Signer.Options) =>
  Signer.layer(Fake.credentials, options).pipe(Layer.provide(CosConfig.layer(Fake.config)))
const fields = (sign: Redacted.Redacted<string>) => Either.getOrThrow(Signature.parse(Redacted.value(sign))).fields

describe("Signer", () => {
  it.effect("multi-effect signatures are cached, then re-made near expiry and after invalidate", () =>
    Effect.gen(function*() {
      const signer = yield* Signer.Signer
      const a = yield* signer.sign({ op: "upload_slice_data", path: target, once: false })
      const b = yield* signer.sign({ op: "stat", path: target, once: false })
      assert.strictEqual(Redacted.value(a), Redacted.value(b))
      assert.deepStrictEqual([fields(a).e - fields(a).t, fields(a).f], [300, ""])
      yield* TestClock.adjust("239 seconds")
      assert.strictEqual(
        Redacted.value(yield* signer.sign({ op: "stat", path: target, once: false })),
        Redacted.value(a)
      )
      yield* TestClock.adjust("2 seconds") // 59 s left < 60 s margin
      const c = yield* signer.sign({ op: "stat", path: target, once: false })
      assert.notStrictEqual(Redacted.value(c), Redacted.value(a))
      assert.strictEqual(fields(c).t, 241)
      yield* signer.invalidate
      const d = yield* signer.sign({ op: "stat", path: target, once: false })
      assert.notStrictEqual(Redacted.value(d), Redacted.value(c))
      // the signature verifies with the key
      assert.isTrue(Either.isRight(Signature.verify({
        sign: Redacted.value(d),
        lookupKey: () => Option.some(Fake.credentials.secretKey),
        appId: Fake.config.appId,
        bucket: Fake.config.bucket,
        resourcePath: target,
        opKind: "multi",
        now: 241
      })))
    }).pipe(Effect.provide(signerLayer())))

  it.effect("single-effect signatures: e = 0, bound to the file, fresh every time", () =>
    Effect.gen(function*() {
      const signer = yield* Signer.Signer
      const a = yield* signer.sign({ op: "delete", path: target, once: true })
      const b = yield* signer.sign({ op: "delete", path: target, once: true })
      assert.deepStrictEqual([fields(a).e, fields(a).f], [0, "/1250000000/bkt/d/f.bin"])
      assert.notStrictEqual(Redacted.value(a), Redacted.value(b))
    }).pipe(Effect.provide(signerLayer())))

  it.effect("layerConfig reads the secret from Config; layerFromFunction delegates", () =>
    Effect.gen(function*() {
      const fromConfig = yield* Effect.flatMap(Signer.Signer, (s) => s.sign({ op: "stat", path: target, once: false }))
        .pipe(
          Effect.provide(Signer.layerConfig().pipe(Layer.provide(CosConfig.layerConfig()))),
          Effect.withConfigProvider(ConfigProvider.fromMap(
            new Map([["COS_ENDPOINT", "http://x"], ["COS_APPID", "1250000000"], ["COS_BUCKET", "bkt"], [
              "COS_SECRET_ID",
              "AKIDtest"
            ], ["COS_SECRET_KEY", "testkey"]])
          ))
        )
      assert.deepStrictEqual([fields(fromConfig).k, fields(fromConfig).b], ["AKIDtest", "bkt"])
      const calls: Array<string> = []
      const app = yield* Effect.flatMap(Signer.Signer, (s) => s.sign({ op: "delete", path: target, once: true })).pipe(
        Effect.provide(Signer.layerFromFunction((r) => {
          calls.push(`${r.op} ${r.path} ${r.once}`)
          return Effect.succeed(Redacted.make("from-app"))
        }))
      )
      assert.strictEqual(Redacted.value(app), "from-app")
      assert.deepStrictEqual(calls, ["delete /d/f.bin true"])
    }))
})

describe("CheckpointStore.layerMemory", () => {
  const cp: CheckpointStore.Checkpoint = {
    version: 1,
    target: { endpoint: "e", appId: "1", bucket: "b", path: "/p" },
    source: { size: 10, sample: "abc" },
    session: "s",
    sliceSize: 5,
    fileSize: 10,
    integrity: "inline",
    acknowledged: [0],
    updatedAt: 1
  }
  it.scoped("save / load / remove, and an exclusive lock per key", () =>
    Effect.gen(function*() {
      const store = yield* CheckpointStore.makeMemory
      assert.isTrue(Option.isNone(yield* store.load("k")))
      yield* store.save("k", cp)
      assert.deepStrictEqual(yield* store.load("k"), Option.some(cp))
      yield* store.remove("k")
      yield* store.remove("k")
      assert.isTrue(Option.isNone(yield* store.load("k")))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lock("k")
        const locked = yield* Effect.flip(Effect.scoped(store.lock("k")))
        assert.strictEqual(locked.reason, "Locked")
        yield* Effect.scoped(store.lock("other"))
      }))
      yield* Effect.scoped(store.lock("k")) // released with its scope
      assert.strictEqual(CheckpointStore.key(cp.target), "e|1|b|/p")
    }))
})

describe("UploadSource", () => {
  it.scoped("fromStream: sequential reads with skips; going back fails", () =>
    Effect.gen(function*() {
      const data = Fake.bytes(100)
      const reader = yield* UploadSource.fromStream(
        Stream.fromIterable([data.subarray(0, 7), data.subarray(7, 50), data.subarray(50)]),
        100
      ).open
      const a = new Uint8Array(10)
      assert.strictEqual(yield* UploadSource.readFully(reader, a, 0), 10)
      assert.deepStrictEqual(a, data.subarray(0, 10))
      const b = new Uint8Array(20)
      assert.strictEqual(yield* UploadSource.readFully(reader, b, 40), 20)
      assert.deepStrictEqual(b, data.subarray(40, 60))
      const back = yield* Effect.flip(reader.read(new Uint8Array(5), 0))
      assert.strictEqual(back.reason, "ReadFailed")
      const rest = new Uint8Array(50)
      assert.strictEqual(yield* UploadSource.readFully(reader, rest, 60), 40)
    }))

  it.scoped("fromStream: a stream longer than announced fails with SizeMismatch", () =>
    Effect.gen(function*() {
      const reader = yield* UploadSource.fromStream(Stream.make(Fake.bytes(10), Fake.bytes(5)), 10).open
      const error = yield* Effect.flip(UploadSource.readFully(reader, new Uint8Array(10), 0))
      assert.strictEqual(error.reason, "SizeMismatch")
    }))

  it.scoped("fromUint8Array: random access", () =>
    Effect.gen(function*() {
      const data = Fake.bytes(50)
      const reader = yield* UploadSource.fromUint8Array(data).open
      const into = new Uint8Array(20)
      assert.strictEqual(yield* reader.read(into, 40), 10)
      assert.deepStrictEqual(into.subarray(0, 10), data.subarray(40))
      assert.strictEqual(yield* reader.read(into, 0), 20)
      assert.isTrue(reader.randomAccess)
    }))
})
