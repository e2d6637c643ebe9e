import type * as CosError from "@cos-v4/core/CosError"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as CheckpointStore from "../src/CheckpointStore.js"
import type * as Signer from "../src/Signer.js"
import * as Uploader from "../src/Uploader.js"
import { percent, type UploadEvent } from "../src/UploadEvent.js"
import * as UploadOptions from "../src/UploadOptions.js"
import * as UploadSource from "../src/UploadSource.js"
import * as Fake from "./fakeServer.js"
import { drive } from "./utils.js"

const S = 1024
const sliceOpts = { sliceSize: S, simpleUploadThreshold: 0 } as const

const events = (
  server: Fake.FakeServer,
  data: Uint8Array,
  options: UploadOptions.UploadOptions,
  extra?: { signer?: Signer.Options; store?: Layer.Layer<CheckpointStore.CheckpointStore>; path?: string }
) =>
  Uploader.uploadWithProgress(UploadSource.fromUint8Array(data), extra?.path ?? "/f", {
    ...options,
    bufferSize: 100_000
  }).pipe(
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray),
    Effect.provide(Fake.layer(server, extra?.signer, extra?.store))
  )

const completed = (list: ReadonlyArray<UploadEvent>) => {
  const last = list.at(-1)
  assert.strictEqual(last?._tag, "Completed")
  return (last as Extract<UploadEvent, { _tag: "Completed" }>).receipt
}

const failure = <A>(exit: Exit.Exit<A, CosError.CosError>) => {
  assert.isTrue(Exit.isFailure(exit))
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  assert.fail(`expected a failure, got ${String(exit)}`)
}

const once = (predicate: (r: Fake.Request) => boolean, fault: Fake.Fault, times = 1) => {
  let n = 0
  return (r: Fake.Request) => predicate(r) && n++ < times ? fault : undefined
}
const dataAt = (offset: number) => (r: Fake.Request) =>
  r.op === "upload_slice_data" && r.fields.offset === String(offset)

describe("retries by recovery class", () => {
  it.effect("retry: HTTP 503 twice, then the slice goes through after backoff", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once(dataAt(2 * S), { _tag: "status", status: 503 }, 2)
      const data = Fake.bytes(4 * S)
      const list = yield* Effect.flatten(drive(events(server, data, sliceOpts)))
      const receipt = completed(list)
      assert.strictEqual(receipt.retries, 2)
      assert.deepStrictEqual(receipt.failures.map((f) => [f.tag, f.status, f.offset]), [
        ["HttpStatusError", 503, 2 * S],
        ["HttpStatusError", 503, 2 * S]
      ])
      const retrying = list.filter((e) => e._tag === "Retrying")
      assert.strictEqual(retrying.length, 2)
      assert.deepStrictEqual(server.sentOffsets().filter((o) => o === 2 * S).length, 3)
      assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
    }))

  it.effect("resign: an expired signature is re-signed and resent at once, without delay", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once((r) => r.op === "upload_slice_init", { _tag: "code", reason: "AuthExpired" })
      // no clock adjustment at all: a retry delay would hang here
      const list = yield* events(server, Fake.bytes(3 * S), sliceOpts)
      const receipt = completed(list)
      const inits = server.ops("upload_slice_init")
      assert.strictEqual(inits.length, 2)
      assert.notStrictEqual(inits[0]!.authorization, inits[1]!.authorization)
      assert.strictEqual(list.filter((e) => e._tag === "Retrying").length, 0)
      assert.deepStrictEqual(receipt.failures.map((f) => f.recovery), ["resign"])
    }))

  it.effect("resync: a lost session is listed and the upload continues", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once(dataAt(S), { _tag: "code", reason: "SessionNotFound" })
      const data = Fake.bytes(3 * S)
      const receipt = completed(yield* events(server, data, { ...sliceOpts, concurrency: 1 }))
      assert.strictEqual(server.ops("upload_slice_list").length, 1)
      assert.deepStrictEqual(receipt.failures.map((f) => f.reason), ["SessionNotFound"])
      assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
    }))

  it.effect("never: a permanent error ends the upload at once with UploadFailed(Terminal)", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once((r) => r.op === "upload_slice_init", { _tag: "code", reason: "PathConflict" })
      const error = failure(yield* Effect.exit(events(server, Fake.bytes(3 * S), sliceOpts)))
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") {
        assert.strictEqual(error.reason, "Terminal")
        assert.deepStrictEqual(error.failures.map((f) => f.reason), ["PathConflict"])
      }
      assert.strictEqual(server.sentOffsets().length, 0)
    }))

  it.effect("UploadFailed lists every failure met, not only the last", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const first = once(dataAt(0), { _tag: "status", status: 502 })
      const second = once(dataAt(S), { _tag: "code", reason: "InvalidParameter" })
      server.fault = (r) => first(r) ?? second(r)
      const exit = yield* drive(events(server, Fake.bytes(3 * S), { ...sliceOpts, concurrency: 1 }))
      const error = failure(exit)
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") {
        assert.deepStrictEqual(error.failures.map((f) => [f.tag, f.offset]), [["HttpStatusError", 0], [
          "ServerError",
          S
        ]])
        assert.strictEqual(error.acknowledgedBytes, S)
        assert.isString(error.session)
      }
    }))
})

describe("one retry budget per upload, reset when acknowledged bytes advance", () => {
  const budget = Schedule.recurs(2)
  it.effect("failures spread over slices do not exhaust it when slices get acknowledged in between", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const a = once(dataAt(0), { _tag: "status", status: 500 }, 2)
      const b = once(dataAt(S), { _tag: "status", status: 500 }, 2)
      server.fault = (r) => a(r) ?? b(r)
      const receipt = completed(
        yield* events(server, Fake.bytes(3 * S), { ...sliceOpts, concurrency: 1, retrySchedule: budget })
      )
      assert.strictEqual(receipt.retries, 4)
    }))

  it.effect("three failures without progress exhaust a budget of two: RetriesExhausted with all three", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once(dataAt(S), { _tag: "status", status: 500 }, 3)
      const error = failure(
        yield* Effect.exit(events(server, Fake.bytes(3 * S), { ...sliceOpts, concurrency: 1, retrySchedule: budget }))
      )
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") {
        assert.strictEqual(error.reason, "RetriesExhausted")
        assert.strictEqual(error.failures.length, 3)
      }
    }))

  it.effect("the budget is shared: failures of different slices without progress add up", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      // every slice fails until its 2nd attempt; with 3 slices in flight and no acknowledgement, 3 failures
      // happen before any progress and exhaust the budget of 2
      const seen = new Map<string, number>()
      server.fault = (r) => {
        if (r.op !== "upload_slice_data") return undefined
        const n = seen.get(r.fields.offset!) ?? 0
        seen.set(r.fields.offset!, n + 1)
        return n === 0 ? { _tag: "status", status: 500 } : undefined
      }
      const error = failure(
        yield* Effect.exit(events(server, Fake.bytes(3 * S), { ...sliceOpts, concurrency: 3, retrySchedule: budget }))
      )
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") assert.strictEqual(error.reason, "RetriesExhausted")
    }))
})

describe("time limits (TestClock)", () => {
  it.effect("stall: no response within the stall window → Stalled, retried", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once(dataAt(S), { _tag: "never" })
      const data = Fake.bytes(3 * S)
      const list = yield* Effect.flatten(
        drive(events(server, data, { ...sliceOpts, stallTimeout: "5 seconds", requestTimeout: "1 minute" }), "1 second")
      )
      const receipt = completed(list)
      assert.deepStrictEqual(receipt.failures.map((f) => [f.tag, f.reason]), [["TransportError", "Stalled"]])
      assert.isTrue(list.some((e) => e._tag === "Stalled" && e.offset === S))
      assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
      assert.strictEqual(server.inFlight, 0)
    }))

  it.effect("stall: a response body that stops → Stalled", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once((r) => r.op === "upload_slice_finish", { _tag: "stallBody" })
      const receipt = completed(
        yield* Effect.flatten(drive(events(server, Fake.bytes(2 * S), { ...sliceOpts, stallTimeout: "5 seconds" })))
      )
      assert.deepStrictEqual(receipt.failures.map((f) => [f.op, f.reason]), [["upload_slice_finish", "Stalled"]])
    }))

  it.effect("request timeout: a slow answer beyond the deadline → Timeout, retried", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once(dataAt(0), { _tag: "delay", millis: 10_000 })
      const receipt = completed(
        yield* Effect.flatten(
          drive(
            events(server, Fake.bytes(2 * S), { ...sliceOpts, requestTimeout: "2 seconds", stallTimeout: "1 minute" })
          )
        )
      )
      assert.deepStrictEqual(receipt.failures.map((f) => [f.tag, f.reason]), [["TransportError", "Timeout"]])
    }))

  it.effect("the per-call-site Reference applies when no option is given", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = once(dataAt(0), { _tag: "delay", millis: 10_000 })
      const exit = yield* drive(
        events(server, Fake.bytes(2 * S), sliceOpts).pipe(UploadOptions.withRequestTimeout("2 seconds"))
      )
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) assert.deepStrictEqual(completed(exit.value).failures.map((f) => f.reason), ["Timeout"])
    }))
})

describe("signatures", () => {
  it.effect("a long upload re-signs before the cached signature expires", () =>
    Effect.gen(function*() {
      const server = Fake.make({ verifySignatures: true })
      server.fault = (r) => r.op === "upload_slice_data" ? { _tag: "delay", millis: 20_000 } : undefined
      const receipt = completed(
        yield* Effect.flatten(drive(
          events(server, Fake.bytes(8 * S), { ...sliceOpts, concurrency: 1 }, {
            signer: { lifetimeSeconds: 60, refreshMarginSeconds: 30 }
          }),
          "1 second"
        ))
      )
      assert.strictEqual(receipt.failures.length, 0)
      const signatures = new Set(server.log.map((e) => e.authorization))
      assert.isAtLeast(signatures.size, 3)
    }))

  it.effect("an expiry the server reports anyway is recovered by re-signing", () =>
    Effect.gen(function*() {
      const server = Fake.make({ verifySignatures: true })
      server.fault = (r) => r.op === "upload_slice_data" ? { _tag: "delay", millis: 40_000 } : undefined
      const receipt = completed(
        yield* Effect.flatten(drive(
          events(server, Fake.bytes(4 * S), { ...sliceOpts, concurrency: 1, stallTimeout: "2 minutes" }, {
            signer: { lifetimeSeconds: 60, refreshMarginSeconds: 0 }
          }),
          "1 second"
        ))
      )
      assert.isAbove(receipt.failures.length, 0)
      assert.isTrue(receipt.failures.every((f) => f.reason === "AuthExpired" && f.recovery === "resign"))
    }))
})

describe("resume", () => {
  const seed = (server: Fake.FakeServer, data: Uint8Array, offsets: ReadonlyArray<number>, sha?: string) => {
    server.sessions.set("/f", {
      session: "old",
      filesize: data.length,
      sliceSize: S,
      sha,
      parts: new Map(offsets.map((o) => [o, data.slice(o, Math.min(data.length, o + S))]))
    })
  }

  for (const integrity of ["sha-at-init"] as const) {
    it.effect(`${integrity}: -4019 for the same SHA-1 → list → only the missing slices are sent`, () =>
      Effect.gen(function*() {
        const server = Fake.make()
        const data = Fake.bytes(6 * S + 7)
        seed(server, data, [0, 2 * S, 3 * S], Fake.sha1Hex(data))
        const list = yield* events(server, data, { ...sliceOpts, integrity })
        const receipt = completed(list)
        assert.deepStrictEqual(server.sentOffsets().sort((a, b) => a - b), [S, 4 * S, 5 * S, 6 * S])
        assert.isTrue(receipt.resumed)
        assert.strictEqual(receipt.session, "old")
        assert.strictEqual(receipt.slicesSkipped, 3)
        assert.strictEqual(receipt.bytesSkipped, 3 * S)
        const resumed = list.find((e) => e._tag === "Resumed")
        assert.strictEqual(resumed?._tag === "Resumed" ? resumed.skippedBytes : -1, 3 * S)
        assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
        assert.strictEqual(receipt.sha1, Fake.sha1Hex(data))
      }))
  }

  for (const integrity of ["inline", "sha-at-init"] as const) {
    it.effect(`${integrity}: -4019 for a session of the same size with nothing to check it against is not continued`, () =>
      Effect.gen(function*() {
        // other bytes of the same size, in a session made without a SHA-1 and not checkpointed here: continuing it
        // would finish a mix of its slices and ours
        const server = Fake.make()
        const data = Fake.bytes(6 * S + 7)
        seed(server, Fake.bytes(6 * S + 7, 1), [0, 2 * S, 3 * S])
        const error = failure(yield* Effect.exit(events(server, data, { ...sliceOpts, integrity })))
        assert.strictEqual(error._tag, "UploadFailed")
        if (error._tag === "UploadFailed") {
          assert.deepStrictEqual(error.failures.map((f) => f.reason), ["UploadNotFinished", "Changed"])
        }
        assert.strictEqual(server.ops("upload_slice_data").length, 0)
        assert.strictEqual(server.ops("delete").length, 0)
        assert.isFalse(server.files.has("/f"))

        // with overwrite the old session is deleted and every slice sent: the stored file is the source
        const receipt = completed(yield* events(server, data, { ...sliceOpts, integrity, overwrite: true }))
        assert.strictEqual(server.ops("delete").length, 1)
        assert.isFalse(receipt.resumed)
        assert.strictEqual(server.sentOffsets().length, 7)
        assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
      }))
  }

  it.effect("a lost session is not replaced by another upload's session of the same size", () =>
    Effect.gen(function*() {
      // mid-upload our session vanishes and somebody else's upload of other bytes now holds the path
      const server = Fake.make()
      const data = Fake.bytes(6 * S)
      const theirs = Fake.bytes(6 * S, 3)
      let swapped = false
      server.fault = (r) => {
        if (swapped || r.op !== "upload_slice_data" || Number(r.fields.offset) !== 3 * S) return undefined
        swapped = true
        server.sessions.set("/f", {
          session: "theirs",
          filesize: theirs.length,
          sliceSize: S,
          sha: undefined,
          parts: new Map([0, S, 2 * S, 4 * S].map((o) => [o, theirs.slice(o, o + S)]))
        })
        return { _tag: "code", reason: "SessionNotFound" }
      }
      const error = failure(yield* Effect.exit(events(server, data, { ...sliceOpts, concurrency: 1 })))
      assert.strictEqual(error._tag, "UploadFailed")
      assert.isFalse(server.files.has("/f"), "nothing finished")
      assert.strictEqual(server.sessions.get("/f")?.session, "theirs")
      assert.strictEqual(server.ops("upload_slice_finish").length, 0)
    }))

  it.effect("a simple upload over an unfinished sliced upload: fails, or with overwrite replaces it", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      seed(server, Fake.bytes(5 * S), [0])
      const small = Fake.bytes(1000)
      const opts = { ...sliceOpts, simpleUploadThreshold: 4096 }
      const error = failure(yield* Effect.exit(events(server, small, opts)))
      assert.strictEqual(error._tag, "UploadFailed")
      assert.deepStrictEqual(error._tag === "UploadFailed" ? error.failures.map((f) => f.reason) : [], [
        "UploadNotFinished"
      ])
      assert.isTrue(server.sessions.has("/f"))
      const receipt = completed(yield* events(server, small, { ...opts, overwrite: true }))
      assert.isTrue(receipt.simple)
      assert.strictEqual(server.ops("delete").length, 1)
      assert.deepStrictEqual(server.files.get("/f")!.bytes, small)
      assert.isFalse(server.sessions.has("/f"))
    }))

  it.effect("-4019 for an empty session (no slices yet): it is deleted and init sent again, never shared", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const data = Fake.bytes(4 * S)
      seed(server, Fake.bytes(4 * S, 2), [])
      const receipt = completed(yield* events(server, data, { ...sliceOpts, integrity: "inline" }))
      assert.strictEqual(server.ops("delete").length, 1)
      assert.isFalse(receipt.resumed)
      assert.notStrictEqual(receipt.session, "old")
      assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
    }))

  it.effect("-4019 for other content (size differs) fails with SourceError Changed", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      seed(server, Fake.bytes(5 * S), [0])
      const error = failure(yield* Effect.exit(events(server, Fake.bytes(3 * S), sliceOpts)))
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") {
        assert.deepStrictEqual(error.failures.map((f) => f.reason), ["UploadNotFinished", "Changed"])
      }
      assert.strictEqual(server.ops("delete").length, 0)
    }))

  it.effect("-4019 for other content (sha differs) with overwrite: the old upload is deleted, a new one made", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const data = Fake.bytes(3 * S)
      seed(server, data, [0], Fake.sha1Hex(Fake.bytes(3 * S, 1)))
      const receipt = completed(yield* events(server, data, { ...sliceOpts, overwrite: true }))
      assert.strictEqual(server.ops("delete").length, 1)
      assert.isFalse(receipt.resumed)
      assert.strictEqual(server.sentOffsets().length, 3)
      assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
    }))
})

describe("cancellation", () => {
  const key = CheckpointStore.key({ endpoint: Fake.config.endpoint, appId: "1250000000", bucket: "bkt", path: "/f" })
  const stopAfterAcks = (n: number) => (list: Stream.Stream<UploadEvent, CosError.CosError, Uploader.Requirements>) => {
    let acks = 0
    return list.pipe(Stream.takeUntil((e) => e._tag === "SliceAcknowledged" && ++acks >= n))
  }

  it.effect("keep: ending the progress stream interrupts, saves the checkpoint, a rerun sends only the rest", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const store = yield* CheckpointStore.makeMemory
      const storeLayer = Layer.succeed(CheckpointStore.CheckpointStore, store)
      const data = Fake.bytes(10 * S)
      const options = { ...sliceOpts, concurrency: 1 }
      yield* Uploader.uploadWithProgress(UploadSource.fromUint8Array(data), "/f", options).pipe(
        stopAfterAcks(3),
        Stream.runDrain,
        Effect.provide(Fake.layer(server, undefined, storeLayer))
      )
      const saved = yield* store.load(key)
      assert.isTrue(Option.isSome(saved))
      const checkpoint = Option.getOrThrow(saved)
      assert.strictEqual(checkpoint.session, server.sessions.get("/f")?.session)
      assert.isAtLeast(checkpoint.acknowledged.length, 3)
      assert.strictEqual(server.ops("delete").length, 0)

      const before = server.log.length
      const sentBefore = new Set(server.sentOffsets())
      const receipt = yield* Uploader.upload(UploadSource.fromUint8Array(data), "/f", options).pipe(
        Effect.provide(Fake.layer(server, undefined, storeLayer))
      )
      const rerun = server.log.slice(before)
      assert.strictEqual(rerun[0]!.op, "upload_slice_list")
      assert.strictEqual(rerun.filter((e) => e.op === "upload_slice_init").length, 0)
      const resent = rerun.filter((e) => e.op === "upload_slice_data").map((e) => Number(e.fields.offset))
      assert.isTrue(resent.every((o) => !checkpoint.acknowledged.includes(o)))
      assert.strictEqual(resent.length + receipt.slicesSkipped, 10)
      assert.isTrue(receipt.resumed)
      assert.isAtLeast(sentBefore.size, 3)
      assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
      assert.isTrue(Option.isNone(yield* store.load(key)))
    }))

  it.effect("discard: interruption deletes the unfinished upload and the checkpoint", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const store = yield* CheckpointStore.makeMemory
      yield* Uploader.uploadWithProgress(UploadSource.fromUint8Array(Fake.bytes(10 * S)), "/f", {
        ...sliceOpts,
        concurrency: 1,
        cancelPolicy: "discard"
      }).pipe(
        stopAfterAcks(2),
        Stream.runDrain,
        Effect.provide(Fake.layer(server, undefined, Layer.succeed(CheckpointStore.CheckpointStore, store)))
      )
      assert.strictEqual(server.ops("delete").length, 1)
      assert.strictEqual(server.sessions.size, 0)
      assert.isTrue(Option.isNone(yield* store.load(key)))
    }))

  it.effect("discard never deletes a stored file: a cancelled upload over an existing one leaves it", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const old = Fake.bytes(3 * S, 5)
      server.files.set("/f", { bytes: old, sha: Fake.sha1Hex(old) })
      yield* Uploader.uploadWithProgress(UploadSource.fromUint8Array(Fake.bytes(10 * S)), "/f", {
        ...sliceOpts,
        concurrency: 1,
        overwrite: true,
        cancelPolicy: "discard"
      }).pipe(stopAfterAcks(2), Stream.runDrain, Effect.provide(Fake.layer(server)))
      assert.strictEqual(server.ops("delete").length, 0)
      assert.deepStrictEqual(server.files.get("/f")?.bytes, old)
    }))

  it.effect("discard after a resume deletes the resumed upload too", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const store = yield* CheckpointStore.makeMemory
      const layer = Fake.layer(server, undefined, Layer.succeed(CheckpointStore.CheckpointStore, store))
      const data = Fake.bytes(10 * S)
      const run = (cancelPolicy: "keep" | "discard") =>
        Uploader.uploadWithProgress(UploadSource.fromUint8Array(data), "/f", {
          ...sliceOpts,
          concurrency: 1,
          cancelPolicy
        }).pipe(stopAfterAcks(2), Stream.runDrain, Effect.provide(layer))
      yield* run("keep")
      assert.strictEqual(server.sessions.size, 1)
      yield* run("discard")
      assert.strictEqual(server.ops("upload_slice_init").length, 1, "the second run resumed from the checkpoint")
      assert.strictEqual(server.sessions.size, 0)
      assert.isTrue(Option.isNone(yield* store.load(key)))
    }))

  it.effect("interruption aborts the request in flight", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = (r) => dataAt(2 * S)(r) ? { _tag: "never" } : undefined
      const store = yield* CheckpointStore.makeMemory
      const fiber = yield* Effect.fork(
        Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(5 * S)), "/f", { ...sliceOpts, concurrency: 1 }).pipe(
          Effect.provide(Fake.layer(server, undefined, Layer.succeed(CheckpointStore.CheckpointStore, store)))
        )
      )
      while (!server.sentOffsets().includes(2 * S)) yield* Effect.yieldNow()
      assert.strictEqual(server.inFlight, 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(server.inFlight, 0)
      const saved = Option.getOrThrow(yield* store.load(key))
      assert.deepStrictEqual([...saved.acknowledged].sort((a, b) => a - b), [0, S])
    }))

  it.effect("two uploads never drive the same target at once", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      server.fault = (r) => dataAt(0)(r) ? { _tag: "never" } : undefined
      const layer = Fake.layer(
        server,
        undefined,
        Layer.succeed(CheckpointStore.CheckpointStore, yield* CheckpointStore.makeMemory)
      )
      const first = yield* Effect.fork(
        Effect.provide(Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(5 * S)), "/f", sliceOpts), layer)
      )
      while (server.sentOffsets().length === 0) yield* Effect.yieldNow()
      const error = failure(
        yield* Effect.exit(
          Effect.provide(Uploader.upload(UploadSource.fromUint8Array(Fake.bytes(5 * S)), "/f", sliceOpts), layer)
        )
      )
      assert.strictEqual(error._tag, "UploadFailed")
      if (error._tag === "UploadFailed") {
        assert.deepStrictEqual(error.failures.map((f) => [f.tag, f.reason]), [["CheckpointError", "Locked"]])
      }
      yield* Fiber.interrupt(first)
    }))
})

describe("progress", () => {
  const check = (list: ReadonlyArray<UploadEvent>, slices: number) => {
    let acked = 0
    const ackOffsets: Array<number> = []
    let shown = 0
    for (const e of list) {
      if (e._tag === "SliceAcknowledged" || e._tag === "Finishing") {
        assert.isAtLeast(e.bytesAcknowledged, acked)
        acked = e.bytesAcknowledged
      }
      // the percentage to show grows, and is 100 only at Completed
      const p = percent(e)
      if (p !== undefined) {
        assert.isAtLeast(p, shown)
        assert.strictEqual(p === 100, e._tag === "Completed")
        shown = p
      }
      if (e._tag === "SliceAcknowledged") ackOffsets.push(e.offset)
    }
    assert.strictEqual(new Set(ackOffsets).size, slices)
    assert.strictEqual(list.filter((e) => e._tag === "Completed").length, 1)
    assert.strictEqual(list.at(-2)?._tag, "Finishing")
    return ackOffsets
  }

  it.effect("out-of-order acknowledgements: bytes acknowledged still only grow", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      // later slices answer sooner
      server.yields = (r) => r.op === "upload_slice_data" ? 100 - Number(r.fields.offset) / S * 10 : 0
      const list = yield* events(server, Fake.bytes(8 * S), { ...sliceOpts, concurrency: 4 })
      const order = check(list, 8)
      assert.notDeepEqual(order, [...order].sort((a, b) => a - b))
    }))

  it.effect.prop(
    "monotone for any order of answers",
    [FastCheck.array(FastCheck.integer({ min: 0, max: 30 }), { minLength: 12, maxLength: 12 })],
    ([delays]) =>
      Effect.gen(function*() {
        const server = Fake.make()
        server.yields = (r) => r.op === "upload_slice_data" ? delays[Number(r.fields.offset) / S] ?? 0 : 0
        check(yield* events(server, Fake.bytes(12 * S), { ...sliceOpts, concurrency: 4 }), 12)
      }),
    { fastCheck: { numRuns: 30 } }
  )

  it.effect("a slow consumer does not slow the upload: events slide, Completed is never dropped", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const list = yield* Uploader.uploadWithProgress(UploadSource.fromUint8Array(Fake.bytes(30 * S)), "/f", {
        ...sliceOpts,
        bufferSize: 4
      }).pipe(
        Stream.tap(() => Effect.sleep("1 second")),
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray),
        Effect.provide(Fake.layer(server)),
        drive,
        Effect.flatten
      )
      // the upload was finished while the consumer still slept on its first events
      assert.isBelow(list.length, 30)
      assert.strictEqual(list.at(-1)?._tag, "Completed")
      assert.strictEqual(server.files.get("/f")?.bytes.length, 30 * S)
    }))
})

describe("checkpoint and source identity", () => {
  const interrupted = (
    server: Fake.FakeServer,
    store: CheckpointStore.CheckpointStore.Service,
    data: Uint8Array,
    integrity: UploadOptions.Integrity
  ) => {
    let acks = 0
    return Uploader.uploadWithProgress(UploadSource.fromUint8Array(data), "/f", {
      ...sliceOpts,
      concurrency: 1,
      integrity
    }).pipe(
      Stream.takeUntil((e) => e._tag === "SliceAcknowledged" && ++acks >= 3),
      Stream.runDrain,
      Effect.provide(Fake.layer(server, undefined, Layer.succeed(CheckpointStore.CheckpointStore, store)))
    )
  }

  it.effect("a stream is never continued from a checkpoint: another stream of the same size starts over", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const store = yield* CheckpointStore.makeMemory
      const layer = Fake.layer(server, undefined, Layer.succeed(CheckpointStore.CheckpointStore, store))
      const a = Fake.bytes(8 * S)
      const b = Fake.bytes(8 * S, 9)
      const chunks = (bytes: Uint8Array) => Stream.fromIterable([bytes.slice(0, 3 * S), bytes.slice(3 * S)])
      let acks = 0
      yield* Uploader.uploadWithProgress(UploadSource.fromStream(chunks(a), a.length), "/f", {
        ...sliceOpts,
        concurrency: 1
      }).pipe(
        Stream.takeUntil((e) => e._tag === "SliceAcknowledged" && ++acks >= 3),
        Stream.runDrain,
        Effect.provide(layer)
      )
      const key = CheckpointStore.key({
        endpoint: Fake.config.endpoint,
        appId: "1250000000",
        bucket: "bkt",
        path: "/f"
      })
      assert.isTrue(Option.isSome(yield* store.load(key)))
      const receipt = yield* Uploader.upload(UploadSource.fromStream(chunks(b), b.length), "/f", sliceOpts).pipe(
        Effect.provide(layer)
      )
      assert.isFalse(receipt.resumed)
      assert.deepStrictEqual(server.files.get("/f")!.bytes, b)
    }))

  it.effect("inline mode resumes after interruption: re-reads skipped slices for the hash, sends only the rest", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const store = yield* CheckpointStore.makeMemory
      const data = Fake.bytes(8 * S + 3)
      yield* interrupted(server, store, data, "inline")
      const sent = server.sentOffsets().length
      const receipt = yield* Uploader.upload(UploadSource.fromUint8Array(data), "/f", {
        ...sliceOpts,
        integrity: "inline"
      }).pipe(
        Effect.provide(Fake.layer(server, undefined, Layer.succeed(CheckpointStore.CheckpointStore, store)))
      )
      assert.isTrue(receipt.resumed)
      assert.strictEqual(server.sentOffsets().length - sent, 9 - receipt.slicesSkipped)
      assert.strictEqual(receipt.sha1, Fake.sha1Hex(data))
      assert.strictEqual(receipt.verifiedBy, "stat")
      assert.deepStrictEqual(server.files.get("/f")!.bytes, data)
    }))

  for (const integrity of ["sha-at-init", "inline"] as const) {
    it.effect(`${integrity}: content changed since the interrupted upload (same size): ours is discarded, restarted`, () =>
      Effect.gen(function*() {
        const server = Fake.make()
        const store = yield* CheckpointStore.makeMemory
        yield* interrupted(server, store, Fake.bytes(8 * S), integrity)
        const changed = Fake.bytes(8 * S, 7)
        const before = server.log.length
        const receipt = yield* Uploader.upload(UploadSource.fromUint8Array(changed), "/f", { ...sliceOpts, integrity })
          .pipe(
            Effect.provide(Fake.layer(server, undefined, Layer.succeed(CheckpointStore.CheckpointStore, store)))
          )
        const ops = server.log.slice(before).map((e) => e.op)
        // stat first: only an unfinished upload without a stored file beside it is deleted
        assert.deepStrictEqual(ops.slice(0, 5), [
          "upload_slice_init",
          "upload_slice_list",
          "stat",
          "delete",
          "upload_slice_init"
        ])
        assert.isFalse(receipt.resumed)
        assert.strictEqual(receipt.slicesSent, 8)
        assert.deepStrictEqual(server.files.get("/f")!.bytes, changed)
      }))
  }
})
