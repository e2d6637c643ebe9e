import * as CosPath from "@cos-v4/core/CosPath"
import * as Signature from "@cos-v4/core/Signature"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as CosConfig from "../src/CosConfig.js"
import * as Signer from "../src/Signer.js"
import * as Transport from "../src/Transport.js"
import * as Fake from "./fakeServer.js"

interface Seen {
  request: HttpClientRequest.HttpClientRequest
  url: URL
}

// a client answering every request with one canned response (or failing)
const canned = (answer: (seen: Seen) => Effect.Effect<Response, HttpClientError.HttpClientError>) => {
  const seen: Array<Seen> = []
  const client = HttpClient.make((request, url) => {
    seen.push({ request, url })
    return Effect.map(answer({ request, url }), (r) => HttpClientResponse.fromWeb(request, r))
  })
  const layer = Transport.layer.pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
    Layer.provide(Signer.layer(Fake.credentials)),
    Layer.provide(CosConfig.layer(Fake.config))
  )
  return { seen, layer, client }
}

const json = (body: unknown, status = 200) =>
  Effect.succeed(new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }))
const path = (p: string) => Either.getOrThrow(CosPath.parse(p))

describe("Transport", () => {
  it.effect("envelope: the body is a subarray of the payload's own buffer, head before and tail after", () =>
    Effect.gen(function*() {
      const { layer, seen } = canned(() =>
        json({ code: 0, message: "SUCCESS", data: { session: "s", offset: 0, datalen: 5 } })
      )
      const buffer = new Uint8Array(Transport.headRoom + 5 + Transport.tailRoom)
      buffer.set([1, 2, 3, 4, 5], Transport.headRoom)
      const t = yield* Effect.provide(Transport.Transport, layer)
      yield* t.sliceData({
        path: path("/a b/ü.bin"),
        session: "s",
        offset: 0,
        content: { buffer, start: Transport.headRoom, length: 5 }
      })
      const { request, url } = seen[0]!
      assert.strictEqual(url.pathname, "/files/v2/1250000000/bkt/a%20b/%C3%BC.bin")
      assert.strictEqual(request.body._tag, "Uint8Array")
      if (request.body._tag === "Uint8Array") {
        const body = request.body.body
        assert.strictEqual(body.buffer, buffer.buffer) // no copy
        assert.strictEqual(request.body.contentLength, body.length)
        const text = Buffer.from(body).toString("latin1")
        const boundary = /boundary=(.+)$/.exec(request.body.contentType)![1]!
        assert.isTrue(text.startsWith(`--${boundary}\r\n`))
        assert.isTrue(text.endsWith(`\r\n--${boundary}--\r\n`))
        assert.include(text, `name="op"\r\n\r\nupload_slice_data\r\n`)
        assert.include(text, `name="offset"\r\n\r\n0\r\n`)
        assert.include(text, "\r\n\r\n\x01\x02\x03\x04\x05\r\n")
      }
      assert.isString(request.headers["authorization"])
    }))

  it.effect("sends through the client's Transport.DirectClient when it carries one, else through the client", () =>
    Effect.gen(function*() {
      const answer = () => json({ code: 0, message: "SUCCESS", data: { session: "s", offset: 0, datalen: 1 } })
      const outer = canned(answer)
      const direct = canned(answer)
      const carrying = Object.assign(outer.client, { [Transport.DirectClient]: direct.client })
      const layerOf = (client: HttpClient.HttpClient) =>
        Transport.layer.pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, client)),
          Layer.provide(Signer.layer(Fake.credentials)),
          Layer.provide(CosConfig.layer(Fake.config))
        )
      const send = (client: HttpClient.HttpClient) =>
        Effect.flatMap(
          Effect.provide(Transport.Transport, layerOf(client)),
          (t) =>
            t.sliceData({ path: path("/d"), session: "s", offset: 0, content: Transport.payload(new Uint8Array(1)) })
        )
      yield* send(carrying)
      assert.strictEqual(direct.seen.length, 1)
      assert.strictEqual(outer.seen.length, 0)
      // a derived client carries no DirectClient: its transformation applies
      yield* send(HttpClient.mapRequest(carrying, (r) => r))
      assert.strictEqual(direct.seen.length, 1)
      assert.strictEqual(outer.seen.length, 1)
    }))

  it.effect("a payload without room is copied once into a fresh body", () =>
    Effect.gen(function*() {
      const { layer, seen } = canned(() => json({ code: 0, message: "SUCCESS", data: Fake.config }))
      const bytes = new Uint8Array([9, 9, 9])
      const t = yield* Effect.provide(Transport.Transport, layer)
      yield* Effect.either(t.uploadSimple({ path: path("/x"), content: Transport.payload(bytes) }))
      const body = seen[0]!.request.body
      assert.isTrue(body._tag === "Uint8Array" && body.body.buffer !== bytes.buffer)
      assert.deepStrictEqual([...bytes], [9, 9, 9]) // the caller's bytes are untouched
    }))

  it.effect("data of the wrong shape: a ProtocolError Decode carrying the envelope's request id", () =>
    Effect.gen(function*() {
      const { layer } = canned(() =>
        json({ code: 0, message: "SUCCESS", request_id: "req-42", data: { session: 7, offset: "x" } })
      )
      const t = yield* Effect.provide(Transport.Transport, layer)
      const error = yield* Effect.flip(t.sliceInit({ path: path("/x"), fileSize: 10, sliceSize: 1048576 }))
      assert.strictEqual(error._tag, "ProtocolError")
      assert.deepStrictEqual(
        error._tag === "ProtocolError" ? [error.reason, error.requestId, error.op] : [],
        ["Decode", "req-42", "upload_slice_init"]
      )
    }))

  it.effect("upload_slice_list: HTTP 404 and NotFound codes read as None", () =>
    Effect.gen(function*() {
      const notFound = canned(() => Effect.succeed(new Response("nothing", { status: 404 })))
      const t1 = yield* Effect.provide(Transport.Transport, notFound.layer)
      assert.isTrue(Option.isNone(yield* t1.sliceList(path("/x"))))
      const code = canned(() => json({ code: -4021, message: "ERROR_CMD_FILE_NOTEXIST" }))
      const t2 = yield* Effect.provide(Transport.Transport, code.layer)
      assert.isTrue(Option.isNone(yield* t2.sliceList(path("/x"))))
      const listed = canned(() =>
        json({ code: 0, message: "SUCCESS", data: { session: "s", filesize: 10, slice_size: 5, listparts: null } })
      )
      const t3 = yield* Effect.provide(Transport.Transport, listed.layer)
      const progress = Option.getOrThrow(yield* t3.sliceList(path("/x")))
      assert.deepStrictEqual("listparts" in progress ? progress.listparts : undefined, [])
    }))

  it.effect("errors: server codes, non-JSON answers, bad data, transport failures", () =>
    Effect.gen(function*() {
      const server = canned(() => json({ code: -4019, message: "_ERROR_FILE_NOT_FINISH_UPLOAD", request_id: "rq1" }))
      const e1 = yield* Effect.flip(
        Effect.flatMap(Transport.Transport, (t) => t.sliceInit({ path: path("/x"), fileSize: 1, sliceSize: 1 })).pipe(
          Effect.provide(server.layer)
        )
      )
      assert.strictEqual(e1._tag, "ServerError")
      if (e1._tag === "ServerError") {
        assert.deepStrictEqual([e1.reason, e1.code, e1.requestId, e1.op, e1.path, e1.recovery], [
          "UploadNotFinished",
          -4019,
          "rq1",
          "upload_slice_init",
          "/x",
          "resync"
        ])
      }
      const gateway = canned(() => Effect.succeed(new Response("<html>502</html>", { status: 502 })))
      const e2 = yield* Effect.flip(
        Effect.flatMap(Transport.Transport, (t) => t.stat(path("/x"))).pipe(Effect.provide(gateway.layer))
      )
      assert.deepStrictEqual(e2._tag === "HttpStatusError" ? [e2.reason, e2.status, e2.recovery] : [], [
        "ServerError",
        502,
        "retry"
      ])
      const bad = canned(() => json({ code: 0, message: "SUCCESS", data: { session: "s", slice_size: "big" } }))
      const e3 = yield* Effect.flip(
        Effect.flatMap(Transport.Transport, (t) => t.sliceInit({ path: path("/x"), fileSize: 1, sliceSize: 1 })).pipe(
          Effect.provide(bad.layer)
        )
      )
      assert.strictEqual(e3._tag, "ProtocolError")
      const reset = canned(({ request }) =>
        Effect.fail(
          new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause: Object.assign(new Error("x"), { code: "ECONNRESET" })
          })
        )
      )
      const e4 = yield* Effect.flip(
        Effect.flatMap(Transport.Transport, (t) => t.stat(path("/x"))).pipe(Effect.provide(reset.layer))
      )
      assert.deepStrictEqual(e4._tag === "TransportError" ? [e4.reason, e4.op] : [], ["Reset", "stat"])
      const stalled = canned(({ request }) =>
        Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", description: "stalled: socket idle" })
        )
      )
      const e5 = yield* Effect.flip(
        Effect.flatMap(Transport.Transport, (t) => t.stat(path("/x"))).pipe(Effect.provide(stalled.layer))
      )
      assert.deepStrictEqual(e5._tag === "TransportError" ? e5.reason : undefined, "Stalled")
    }))

  it.effect("delete: JSON body and a single-effect signature bound to the file", () =>
    Effect.gen(function*() {
      const { layer, seen } = canned(() => json({ code: 0, message: "SUCCESS", data: {} }))
      yield* Effect.flatMap(Transport.Transport, (t) => t.remove(path("/d/a b.txt"))).pipe(Effect.provide(layer))
      const { request } = seen[0]!
      assert.strictEqual(request.method, "POST")
      assert.isTrue(request.body._tag === "Uint8Array" && request.body.contentType === "application/json")
      if (request.body._tag === "Uint8Array") {
        assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(request.body.body)), { op: "delete" })
      }
      const parsed = Either.getOrThrow(Signature.parse(request.headers["authorization"]!))
      assert.strictEqual(parsed.kind, "single")
      assert.strictEqual(parsed.fields.f, "/1250000000/bkt/d/a%20b.txt")
    }))

  it.effect("stat and list are GETs with the op in the query", () =>
    Effect.gen(function*() {
      const { layer, seen } = canned(() =>
        json({
          code: 0,
          message: "SUCCESS",
          data: { context: "", listover: true, dircount: 0, filecount: 0, infos: [] }
        })
      )
      const t = yield* Effect.provide(Transport.Transport, layer)
      yield* t.listDirectory(path("/d/"), { num: 10, pattern: "eListFileOnly" })
      const { request, url } = seen[0]!
      assert.strictEqual(request.method, "GET")
      assert.strictEqual(url.pathname, "/files/v2/1250000000/bkt/d/")
      assert.deepStrictEqual(
        [url.searchParams.get("op"), url.searchParams.get("num"), url.searchParams.get("pattern")],
        ["list", "10", "eListFileOnly"]
      )
    }))
})
