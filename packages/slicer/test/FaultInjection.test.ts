import * as CosPath from "@cos-v4/core/CosPath"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as FaultInjection from "../src/FaultInjection.js"
import * as MemoryServer from "../src/MemoryServer.js"
import * as Transport from "../src/Transport.js"
import * as UploadOptions from "../src/UploadOptions.js"
import * as Fake from "./fakeServer.js"
import { drive } from "./utils.js"

const p = (path: string) => Either.getOrThrow(CosPath.parse(path))

describe("FaultInjection", () => {
  it.effect("rules match by op, offset, nth and times; reached decides whether the server acts", () =>
    Effect.gen(function*() {
      const server = MemoryServer.unsafeMake()
      const injector = FaultInjection.unsafeMake([
        { op: "upload_slice_init", fault: FaultInjection.code("InternalError", { reached: true }) },
        { op: "stat", nth: 2, times: 2, fault: FaultInjection.status(503) },
        { op: "upload_slice_data", offset: 1024, fault: FaultInjection.reset({ afterBytes: 700 }) }
      ])
      const results = yield* Effect.gen(function*() {
        const transport = yield* Transport.Transport
        const init1 = yield* Effect.exit(transport.sliceInit({ path: p("/a"), fileSize: 2048, sliceSize: 1024 }))
        // the first init reached the server: the second one finds its session
        const init2 = yield* Effect.exit(transport.sliceInit({ path: p("/a"), fileSize: 2048, sliceSize: 1024 }))
        const session = server.sessions.get("/a")!.session
        const data0 = yield* Effect.exit(
          transport.sliceData({ path: p("/a"), session, offset: 0, content: Transport.payload(Fake.bytes(1024)) })
        )
        const data1 = yield* Effect.exit(
          transport.sliceData({ path: p("/a"), session, offset: 1024, content: Transport.payload(Fake.bytes(1024)) })
        )
        const stats = []
        for (let i = 0; i < 4; i++) stats.push(yield* Effect.exit(transport.stat(p("/a"))))
        return { init1, init2, data0, data1, stats }
      }).pipe(Effect.provide(MemoryServer.layerServices(server, undefined, undefined, injector.wrap(server.client))))
      const tagOf = (e: Exit.Exit<unknown, { _tag: string; reason?: unknown }>) =>
        Exit.isSuccess(e) ? "ok" : Exit.causeOption(e).pipe((c) =>
          c._tag === "Some" && c.value._tag === "Fail"
            ? `${c.value.error._tag}/${String(c.value.error.reason)}`
            : "defect"
        )
      assert.strictEqual(tagOf(results.init1), "ServerError/InternalError")
      assert.strictEqual(tagOf(results.init2), "ServerError/UploadNotFinished")
      assert.strictEqual(tagOf(results.data0), "ok")
      assert.strictEqual(tagOf(results.data1), "TransportError/Reset")
      assert.isFalse(server.sessions.get("/a")!.parts.has(1024), "a reset without reached never arrives")
      // the truncated body (700 bytes, then the break) never made a request at the server
      assert.deepStrictEqual(server.sentOffsets(), [0])
      // /a is an unfinished upload: stat reports it
      assert.deepStrictEqual(results.stats.map(tagOf), [
        "ok",
        "HttpStatusError/ServerError",
        "HttpStatusError/ServerError",
        "ok"
      ])
      assert.deepStrictEqual(injector.injected.map((i) => i.op), [
        "upload_slice_init",
        "upload_slice_data",
        "stat",
        "stat"
      ])
      assert.strictEqual(injector.inFlight, 0)
    }))

  it.effect("duplicate delivers twice; stall never answers until the transport's stall timer fires", () =>
    Effect.gen(function*() {
      const server = MemoryServer.unsafeMake()
      const injector = FaultInjection.unsafeMake([
        { op: "upload_slice_init", fault: FaultInjection.duplicate },
        { op: "stat", fault: FaultInjection.stall() }
      ])
      const exits = yield* Effect.gen(function*() {
        const transport = yield* Transport.Transport
        const init = yield* Effect.exit(transport.sliceInit({ path: p("/d"), fileSize: 10, sliceSize: 1024 }))
        const stat = yield* Effect.exit(transport.stat(p("/d")))
        return { init, stat }
      }).pipe(
        Effect.provide(MemoryServer.layerServices(server, undefined, undefined, injector.wrap(server.client))),
        Effect.provideService(UploadOptions.StallTimeout, Duration.seconds(2)),
        drive
      )
      assert.isTrue(Exit.isSuccess(exits))
      if (Exit.isSuccess(exits)) {
        // the second delivery of init met the session the first one created
        assert.isTrue(Exit.isFailure(exits.value.init))
        assert.isTrue(Exit.isFailure(exits.value.stat))
      }
      assert.strictEqual(server.ops("upload_slice_init").length, 2)
      assert.strictEqual(injector.inFlight, 0)
    }))

  it.effect("random: the same seed gives the same schedule, another seed another one", () =>
    Effect.gen(function*() {
      const rates = { reset: 0.2, stall: 0.1, duplicate: 0.1, initNotFinished: 0.5 }
      const a = yield* FaultInjection.random({ seed: 42, rates })
      const b = yield* FaultInjection.random({ seed: 42, rates })
      const c = yield* FaultInjection.random({ seed: 43, rates })
      assert.deepStrictEqual(a, b)
      assert.notStrictEqual(JSON.stringify(a), JSON.stringify(c))
      assert.isAbove(a.length, 5)
      // at most one -4019 rule
      assert.isAtMost(a.filter((r) => r.op === "upload_slice_init").length, 1)
    }))

  it.effect("layer wraps the HttpClient of the context", () =>
    Effect.gen(function*() {
      const server = MemoryServer.unsafeMake()
      const injector = yield* FaultInjection.FaultInjection
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${MemoryServer.config.endpoint}/files/v2/1250000000/bkt/x?op=stat`)
      assert.strictEqual(response.status, 418)
      assert.strictEqual(injector.injected.length, 1)
      void server
    }).pipe(
      Effect.provide(
        FaultInjection.layer([{ fault: FaultInjection.status(418) }]).pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, MemoryServer.unsafeMake().client))
        )
      )
    ))
})
