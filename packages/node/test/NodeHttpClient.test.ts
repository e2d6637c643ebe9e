import * as CosPath from "@cos-v4/core/CosPath"
import * as CosConfig from "@cos-v4/slicer/CosConfig"
import * as Signer from "@cos-v4/slicer/Signer"
import * as Transport from "@cos-v4/slicer/Transport"
import * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as NodeHttpClient from "../src/NodeHttpClient.js"
import { credentials, tempDir } from "./helpers.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

interface TestServer {
  readonly url: string
  readonly seen: Array<Seen>
  readonly connections: () => number
  readonly closed: () => number
  readonly server: Http.Server
}

type Handler = (req: Http.IncomingMessage, res: Http.ServerResponse, body: Buffer) => void

/** A real HTTP(S) server on 127.0.0.1, port 0, for the scope; counts connections and records requests. */
const server = (handler: Handler, tls?: { readonly key: string; readonly cert: string }) =>
  Effect.acquireRelease(
    Effect.async<TestServer>((resume) => {
      const seen: Array<Seen> = []
      let connections = 0
      let closed = 0
      const onRequest = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const body = Buffer.concat(chunks)
          seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
          handler(req, res, body)
        })
      }
      const s = tls === undefined ? Http.createServer(onRequest) : Https.createServer(tls, onRequest)
      s.keepAliveTimeout = 60_000 // idle connections close only when the client closes them
      s.on("connection", (socket: { once: (e: "close", f: () => void) => void }) => {
        connections++
        socket.once("close", () => closed++)
      })
      s.listen(0, "127.0.0.1", () => {
        const address = s.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
          seen,
          connections: () => connections,
          closed: () => closed,
          server: s
        }))
      })
    }),
    ({ server: s }) =>
      Effect.async<void>((resume) => {
        s.close(() => resume(Effect.void))
        s.closeAllConnections()
      })
  )

const json: Handler = (_req, res, body) => {
  res.setHeader("content-type", "application/json")
  res.setHeader("set-cookie", ["a=1; Path=/", "b=2"])
  res.setHeader("x-length", String(body.length))
  res.end(JSON.stringify({ ok: true, length: body.length }))
}

const never: Handler = () => {}

const clientLayer = (options?: NodeHttpClient.Options) => NodeHttpClient.layer(options)

const failureOf = <A>(exit: Exit.Exit<A, HttpClientError.HttpClientError>) => {
  assert.isTrue(Exit.isFailure(exit))
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`not a typed failure: ${String(exit)}`)
}

const waitFor = (done: () => boolean) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const poll = () => done() ? resolve() : setTimeout(poll, 5)
      poll()
    })
  )

describe("NodeHttpClient", () => {
  it.scoped("answers: status, headers, cookies, text (twice), json, remote address", () =>
    Effect.gen(function*() {
      const srv = yield* server(json)
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${srv.url}/x`, { urlParams: { op: "stat" } })
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers["content-type"], "application/json")
      assert.deepStrictEqual(yield* response.json, { ok: true, length: 0 })
      assert.strictEqual(yield* response.text, "{\"ok\":true,\"length\":0}")
      assert.deepStrictEqual(response.remoteAddress, Option.some("127.0.0.1"))
      assert.deepStrictEqual(Object.keys(response.cookies.cookies).sort(), ["a", "b"])
      assert.strictEqual(srv.seen[0]!.url, "/x?op=stat")
      const again = yield* client.get(`${srv.url}/y`)
      assert.strictEqual(new TextDecoder().decode(yield* again.arrayBuffer), "{\"ok\":true,\"length\":0}")
      const streamed = yield* client.get(`${srv.url}/z`)
      const chunks = yield* Stream.runCollect(streamed.stream)
      assert.strictEqual(Buffer.concat(Chunk.toArray(chunks)).toString(), "{\"ok\":true,\"length\":0}")
      const form = yield* Effect.exit((yield* client.get(`${srv.url}/f`)).formData)
      assert.isTrue(Exit.isFailure(form))
    }).pipe(Effect.provide(clientLayer())))

  it.scoped("Raw bodies of Uint8Array pieces are sent in order with an exact Content-Length", () =>
    Effect.gen(function*() {
      const srv = yield* server(json)
      const client = yield* HttpClient.HttpClient
      const pieces = [new Uint8Array([1, 2, 3]), new Uint8Array(70_000).fill(9), new Uint8Array([4, 5])]
      const response = yield* client.execute(
        HttpClientRequest.post(`${srv.url}/upload`).pipe(
          HttpClientRequest.setBody(HttpBody.raw(pieces, { contentType: "application/octet-stream" }))
        )
      )
      assert.deepStrictEqual(yield* response.json, { ok: true, length: 70_005 })
      const seen = srv.seen[0]!
      assert.strictEqual(seen.headers["content-length"], "70005")
      assert.isUndefined(seen.headers["transfer-encoding"])
      assert.deepStrictEqual([...seen.body.subarray(0, 3)], [1, 2, 3])
      assert.deepStrictEqual([...seen.body.subarray(70_003)], [4, 5])
      // a Uint8Array body, including an empty one
      const empty = yield* client.execute(
        HttpClientRequest.post(`${srv.url}/e`).pipe(
          HttpClientRequest.bodyUint8Array(new Uint8Array(0))
        )
      )
      assert.deepStrictEqual(yield* empty.json, { ok: true, length: 0 })
      assert.strictEqual(srv.seen[1]!.headers["content-length"], "0")
    }).pipe(Effect.provide(clientLayer())))

  it.scoped("connections are kept alive and reused (40 requests, 4 at a time, at most 4 connections)", () =>
    Effect.gen(function*() {
      const srv = yield* server(json)
      const client = yield* HttpClient.HttpClient
      yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (i) =>
          Effect.flatMap(
            client.execute(
              HttpClientRequest.post(`${srv.url}/${i}`).pipe(
                HttpClientRequest.bodyUint8Array(new Uint8Array(1000))
              )
            ),
            (r) => r.text
          ),
        { concurrency: 4, discard: true }
      )
      assert.strictEqual(srv.seen.length, 40)
      assert.isAtMost(srv.connections(), 4)
      assert.strictEqual(srv.seen[39]!.headers.connection, "keep-alive")
    }).pipe(Effect.provide(clientLayer({ maxSockets: 4 }))))

  it.scoped("closing the layer's scope destroys the agent and its idle keep-alive connections", () =>
    Effect.gen(function*() {
      const srv = yield* server(json)
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* NodeHttpClient.make({ maxSockets: 2 })
        yield* Effect.forEach([1, 2, 3, 4], () => Effect.flatMap(client.get(`${srv.url}/`), (r) => r.text), {
          concurrency: 2,
          discard: true
        })
        assert.strictEqual(srv.closed(), 0) // idle, kept alive
      }))
      yield* waitFor(() => srv.closed() === srv.connections())
      assert.isAtLeast(srv.connections(), 1)
      assert.strictEqual(srv.closed(), srv.connections())
    }))

  it.scoped("no bytes moving for the stall window: RequestError described as stalled, cause ETIMEDOUT", () =>
    Effect.gen(function*() {
      const srv = yield* server(never)
      const client = yield* HttpClient.HttpClient
      const error = failureOf(yield* Effect.exit(client.get(`${srv.url}/hang`)))
      assert.strictEqual(error._tag, "RequestError")
      assert.match(error.description ?? "", /^stalled/)
      assert.strictEqual((error.cause as { code?: string }).code, "ETIMEDOUT")
    }).pipe(Effect.provide(clientLayer({ stallTimeout: "100 millis" }))))

  it.scoped("the stall window defaults to UploadOptions.StallTimeout from the request's context", () =>
    Effect.gen(function*() {
      const srv = yield* server(never)
      const client = yield* HttpClient.HttpClient
      const error = failureOf(
        yield* Effect.exit(UploadOptions.withStallTimeout(client.get(`${srv.url}/hang`), Duration.millis(100)))
      )
      assert.strictEqual(error.description, "stalled: no bytes moved for 100 ms")
    }).pipe(Effect.provide(clientLayer())))

  it.scoped("bytes that keep moving are no stall: a trickling answer fails only at the request timeout", () =>
    Effect.gen(function*() {
      const srv = yield* server((_req, res) => {
        res.writeHead(200, { "content-length": "1000" })
        const tick = setInterval(() => res.write("x"), 20)
        res.on("close", () => clearInterval(tick))
      })
      const client = yield* HttpClient.HttpClient
      const limits = <A, E, R>(self: Effect.Effect<A, E, R>) =>
        self.pipe(
          UploadOptions.withStallTimeout(Duration.millis(100)),
          UploadOptions.withRequestTimeout(Duration.millis(600))
        )
      const response = yield* limits(client.get(`${srv.url}/trickle`))
      const error = failureOf(yield* Effect.exit(limits(response.text)))
      assert.strictEqual(error._tag, "ResponseError")
      assert.strictEqual(error.description, "timeout: no answer within 600 ms")
      // (a stall, 100 ms without bytes, would be described "stalled: no bytes moved for 100 ms")
      assert.strictEqual((error.cause as { code?: string }).code, "ETIMEDOUT")
    }).pipe(Effect.provide(clientLayer())))

  it.scoped("the client applies the answer window itself; through the Transport a late answer is a Timeout", () =>
    Effect.gen(function*() {
      const srv = yield* server(never)
      const layer = clientLayer()
      const client = yield* Effect.provide(HttpClient.HttpClient, layer)
      assert.isTrue((client as { readonly [Transport.AnswerDeadlines]?: boolean })[Transport.AnswerDeadlines])
      const transport = yield* Effect.provide(
        Transport.make,
        Layer.mergeAll(
          layer,
          Signer.layer(credentials).pipe(Layer.provideMerge(CosConfig.layer({
            endpoint: srv.url,
            appId: credentials.appId,
            bucket: "bkt"
          })))
        )
      )
      const path = Either.getOrThrow(CosPath.parseFile("/a.bin"))
      const error = yield* transport.stat(path).pipe(
        UploadOptions.withRequestTimeout(Duration.millis(150)),
        Effect.flip
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.deepStrictEqual([(error as { reason?: string }).reason, (error as { detail?: string }).detail], [
        "Timeout",
        "timeout: no answer within 150 ms"
      ])
    }))

  it.scoped("a body that stops mid-way fails the body read as stalled", () =>
    Effect.gen(function*() {
      const srv = yield* server((_req, res) => {
        res.writeHead(200, { "content-length": "100" })
        res.write("partial")
      })
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${srv.url}/partial`)
      assert.strictEqual(response.status, 200)
      const error = failureOf(yield* Effect.exit(response.text))
      assert.strictEqual(error._tag, "ResponseError")
      assert.match(error.description ?? "", /^stalled/)
    }).pipe(Effect.provide(clientLayer({ stallTimeout: "100 millis" }))))

  it.scoped("a complete answer read after the stall window is not a stall", () =>
    Effect.gen(function*() {
      const srv = yield* server(json)
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${srv.url}/late-reader`)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 250)))
      assert.deepStrictEqual(yield* response.json, { ok: true, length: 0 })
    }).pipe(Effect.provide(clientLayer({ stallTimeout: "100 millis" }))))

  it.scoped("through the slicer's Transport a stall is a TransportError with reason Stalled", () =>
    Effect.gen(function*() {
      const srv = yield* server(never)
      const transport = yield* Effect.provide(
        Transport.make,
        Layer.mergeAll(
          clientLayer({ stallTimeout: "100 millis" }),
          Signer.layer(credentials).pipe(Layer.provideMerge(CosConfig.layer({
            endpoint: srv.url,
            appId: credentials.appId,
            bucket: "bkt"
          })))
        )
      )
      const path = Either.getOrThrow(CosPath.parseFile("/a.bin"))
      const exit = yield* Effect.exit(transport.stat(path))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        assert.strictEqual(exit.cause.error._tag, "TransportError")
        assert.strictEqual((exit.cause.error as { reason?: string }).reason, "Stalled")
      } else {
        assert.fail(String(exit))
      }
    }))

  it.scoped("interruption destroys the in-flight request", () =>
    Effect.gen(function*() {
      const srv = yield* server(never)
      const client = yield* HttpClient.HttpClient
      const fiber = yield* Effect.fork(client.get(`${srv.url}/hang`))
      // wait until the server has the request, then interrupt
      yield* waitFor(() => srv.seen.length > 0)
      yield* Fiber.interrupt(fiber)
      yield* waitFor(() => srv.closed() > 0)
      assert.strictEqual(srv.closed(), 1)
    }).pipe(Effect.provide(clientLayer())))

  it.scoped("a refused connection is a Transport RequestError with code ECONNREFUSED", () =>
    Effect.gen(function*() {
      const srv = yield* server(json)
      const port = new URL(srv.url).port
      const client = yield* HttpClient.HttpClient
      // a port that was just free: bind and release one
      const closedPort = yield* Effect.async<number>((resume) => {
        const s = Http.createServer()
        s.listen(0, "127.0.0.1", () => {
          const a = s.address()
          const p = typeof a === "object" && a !== null ? a.port : Number(port)
          s.close(() => resume(Effect.succeed(p)))
        })
      })
      const error = failureOf(yield* Effect.exit(client.get(`http://127.0.0.1:${closedPort}/`)))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual((error.cause as { code?: string }).code, "ECONNREFUSED")
    }).pipe(Effect.provide(clientLayer())))

  it.scoped("FormData bodies are refused with reason Encode (multipart goes as pieces)", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const form = new FormData()
      form.append("a", "b")
      const error = failureOf(
        yield* Effect.exit(client.execute(
          HttpClientRequest.post("http://127.0.0.1:9/").pipe(
            HttpClientRequest.bodyFormData(form)
          )
        ))
      )
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Encode")
    }).pipe(Effect.provide(clientLayer())))
})

/** the variant the slicer's Transport sends through (`Transport.DirectClient`) */
const directClient = Effect.map(HttpClient.HttpClient, (client) => {
  const direct = (client as { readonly [Transport.DirectClient]?: HttpClient.HttpClient })[Transport.DirectClient]
  if (direct === undefined) throw new Error("NodeHttpClient carries no Transport.DirectClient")
  return direct
})

describe("NodeHttpClient's direct variant (Transport.DirectClient)", () => {
  it.scoped("answers, sends pieces with an exact Content-Length and reuses kept-alive connections", () =>
    Effect.gen(function*() {
      const srv = yield* server(json)
      const client = yield* directClient
      const response = yield* client.get(`${srv.url}/x`, { urlParams: { op: "stat" } })
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(yield* response.json, { ok: true, length: 0 })
      assert.strictEqual(srv.seen[0]!.url, "/x?op=stat")
      const pieces = [new Uint8Array([1, 2, 3]), new Uint8Array(70_000).fill(9), new Uint8Array([4, 5])]
      yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) =>
          Effect.flatMap(
            client.execute(
              HttpClientRequest.post(`${srv.url}/${i}`).pipe(
                HttpClientRequest.setBody(HttpBody.raw(pieces, { contentType: "application/octet-stream" }))
              )
            ),
            (r) => r.text
          ),
        { concurrency: 4, discard: true }
      )
      assert.strictEqual(srv.seen.length, 21)
      assert.isTrue(srv.seen.slice(1).every((r) => r.headers["content-length"] === "70005" && r.body.length === 70_005))
      assert.isAtMost(srv.connections(), 4)
    }).pipe(Effect.provide(clientLayer({ maxSockets: 4 }))))

  it.scoped("a stall is a RequestError described as stalled; an invalid URL is a RequestError InvalidUrl", () =>
    Effect.gen(function*() {
      const srv = yield* server(never)
      const client = yield* directClient
      const stalled = failureOf(yield* Effect.exit(client.get(`${srv.url}/hang`)))
      assert.strictEqual(stalled._tag, "RequestError")
      assert.match(stalled.description ?? "", /^stalled/)
      const invalid = failureOf(yield* Effect.exit(client.get("http://[::1")))
      assert.strictEqual(invalid._tag, "RequestError")
      assert.strictEqual(invalid.reason, "InvalidUrl")
    }).pipe(Effect.provide(clientLayer({ stallTimeout: "100 millis" }))))

  it.scoped("hands a response over once its body has arrived, so reading it does not wait again", () =>
    Effect.gen(function*() {
      let finish: (() => void) | undefined
      const srv = yield* server((_req, res) => {
        res.writeHead(200, { "content-length": "2" })
        res.write("a")
        finish = () => res.end("b")
      })
      const client = yield* directClient
      const fiber = yield* Effect.fork(client.get(`${srv.url}/slow`))
      yield* waitFor(() => finish !== undefined)
      // headers and half the body are there: the response is not handed over yet
      yield* Effect.repeatN(Effect.yieldNow(), 20)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      finish!()
      const response = yield* Fiber.join(fiber)
      // the body is already read: `text` completes without suspending (`runSync` throws on any async step)
      assert.strictEqual(Effect.runSync(response.text), "ab")
    }).pipe(Effect.provide(clientLayer({ stallTimeout: "1 hour" }))))

  it.scoped("interrupting the request, before or while its body is received, destroys the connection", () =>
    Effect.gen(function*() {
      const srv = yield* server((req, res) => {
        if (req.url === "/hang") return
        res.writeHead(200, { "content-length": "1000" })
        res.write("x") // the rest never comes
      })
      const client = yield* directClient
      const fiber = yield* Effect.fork(client.get(`${srv.url}/hang`))
      yield* waitFor(() => srv.seen.length > 0)
      yield* Fiber.interrupt(fiber)
      yield* waitFor(() => srv.closed() > 0)
      assert.strictEqual(srv.closed(), 1)
      const partial = yield* Effect.fork(client.get(`${srv.url}/partial`))
      yield* waitFor(() => srv.seen.length > 1)
      yield* Effect.repeatN(Effect.yieldNow(), 3) // the body has begun
      yield* Fiber.interrupt(partial)
      yield* waitFor(() => srv.closed() > 1)
      assert.strictEqual(srv.closed(), 2)
    }).pipe(Effect.provide(clientLayer({ stallTimeout: "1 hour" })))) // no timer closes them instead

  // Effect.async keeps a function of its own that V8 allocates in the old generation while effect's code runs in
  // the interpreter; what the registration captures then outlives minor collections. Under --no-opt, with no full
  // collection, the old generation grew 7.8-8.5 KB per request when the registration captured the request
  // (ClientRequest, IncomingMessage, ...), and grows 1.8-3.1 KB (effect's own objects) now.
  it.effect(
    "a request's objects are not kept past minor collections by effect's pretenured closure",
    () =>
      Effect.gen(function*() {
        const runner = fileURLToPath(new URL("./fixtures/retention-runner.ts", import.meta.url))
        const out = yield* Effect.async<string>((resume) => {
          ChildProcess.execFile(
            process.execPath,
            ["--no-opt", "--initial-old-space-size=1024", "--import", "tsx", runner, "3000"],
            { cwd: Path.dirname(runner) },
            (error, stdout, stderr) =>
              resume(error ? Effect.die(new Error(`${error.message}\n${stderr}`)) : Effect.succeed(stdout))
          )
        })
        const { perRequest } = JSON.parse(out.trim().split("\n").pop()!) as { readonly perRequest: number }
        assert.isBelow(perRequest, 5000, `old generation grew ${perRequest} bytes per request`)
      }),
    60_000
  )

  it.scoped("a client derived with HttpClient combinators does not carry it", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const derived = HttpClient.mapRequest(client, HttpClientRequest.setHeader("x-a", "1"))
      assert.isDefined((client as { readonly [Transport.DirectClient]?: unknown })[Transport.DirectClient])
      assert.isUndefined((derived as { readonly [Transport.DirectClient]?: unknown })[Transport.DirectClient])
    }).pipe(Effect.provide(clientLayer())))
})

describe("NodeHttpClient over https", () => {
  const dir = tempDir("tls")
  afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))
  const key = Path.join(dir, "key.pem")
  const cert = Path.join(dir, "cert.pem")
  const made = ChildProcess.spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1"
  ])
  const tls = made.status === 0 ? { key: Fs.readFileSync(key, "utf8"), cert: Fs.readFileSync(cert, "utf8") } : undefined

  it.skipIf(tls === undefined)("verifies certificates by default; a trusted CA makes the request succeed", async () => {
    const program = Effect.gen(function*() {
      const srv = yield* server(json, tls)
      const untrusted = yield* Effect.exit(Effect.provide(
        Effect.flatMap(HttpClient.HttpClient, (c) => c.get(`${srv.url}/`)),
        clientLayer()
      ))
      const error = failureOf(untrusted)
      assert.strictEqual(error._tag, "RequestError")
      const trusted = yield* Effect.provide(
        Effect.flatMap(Effect.flatMap(HttpClient.HttpClient, (c) => c.get(`${srv.url}/`)), (r) => r.json),
        clientLayer({ https: { ca: tls!.cert } })
      )
      assert.deepStrictEqual(trusted, { ok: true, length: 0 })
    })
    await Effect.runPromise(Effect.scoped(program))
  })
})
