/**
 * A small `HttpClient.make` transport over node:http / node:https with a keep-alive agent (see
 * effect-http-perf.md §7.3): bodies written as pieces with `req.write`, no AbortSignal handed to
 * `http.request` (interruption destroys the request instead), and a socket idle timeout ("stall").
 *
 * @internal
 */
import { AnswerDeadlines, DirectClient } from "@cos-v4/slicer/Transport"
import { RequestTimeout, StallTimeout } from "@cos-v4/slicer/UploadOptions"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Fiber from "effect/Fiber"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import * as Https from "node:https"
import { Readable } from "node:stream"

/** @internal */
export interface Options {
  readonly maxSockets?: number | undefined
  readonly maxFreeSockets?: number | undefined
  readonly keepAliveMsecs?: number | undefined
  readonly stallTimeout?: Duration.DurationInput | undefined
  readonly https?: Https.AgentOptions | undefined
}

/**
 * The cause of a request that saw no bytes move for the stall window (`code` `ETIMEDOUT`, like Node's own
 * socket timeouts).
 *
 * @internal
 */
export class StallError extends Error {
  readonly code = "ETIMEDOUT"
  constructor(readonly stallMillis: number) {
    super(`stalled: no bytes moved for ${stallMillis} ms`)
    this.name = "StallError"
  }
}

/**
 * The cause of a request whose complete answer did not arrive within the request timeout (`code` `ETIMEDOUT`).
 *
 * @internal
 */
export class DeadlineError extends Error {
  readonly code = "ETIMEDOUT"
  constructor(readonly deadlineMillis: number) {
    super(`timeout: no answer within ${deadlineMillis} ms`)
    this.name = "DeadlineError"
  }
}

const toMillis = (d: Duration.Duration): number =>
  Duration.isFinite(d) ? Math.max(1, Math.ceil(Duration.toMillis(d))) : 0

/**
 * The time limits of a request, cached per pair of settings: the socket idle timeout (`stallMs`, 0: none) and the
 * deadline of the complete answer (`millis`, 0: none).
 */
interface Window {
  readonly stall: Duration.Duration
  readonly timeout: Duration.Duration
  readonly stallMs: number
  readonly millis: number
}

type BodyBytes = { readonly _tag: "bytes"; readonly bytes: Buffer } | {
  readonly _tag: "failed"
  readonly error: HttpClientError.ResponseError
}

/**
 * A registration with `Effect.async` that holds little: per run, `start` gets `args` and a `Handle` whose
 * `cancel` the canceler calls; the job drops `args` once started, and `start` drops `cancel` once the operation is
 * over.
 *
 * Why not a plain `Effect.async((resume) => ...)` closing over the request: effect's `Effect.async` stores a
 * function literal of its own on the async operation, and V8 allocates a function literal assigned to a property
 * in the old generation while the code that creates it is not yet optimized (for the first seconds of a fresh
 * process). That function reaches the registration function (and its scope chain) and the canceler, so, from a
 * dead object in the old generation, everything they capture survives minor collections until the next full one.
 * Capturing the request and response, every exchange of the first GiB of an upload was promoted (0.5-0.8 MB per
 * scavenge), and V8 grew the young generation to its maximum: 16 MiB more resident memory for good. Here the
 * registration is made in `asyncJob`, whose scope holds the job only, and the request's objects live in `start`'s
 * scope.
 */
interface Handle {
  cancel: (() => void) | undefined
}

interface Job<Args, A, E> extends Handle {
  args: Args | undefined
  readonly start: (args: Args, resume: (effect: Effect.Effect<A, E>) => void, handle: Handle) => void
}

const cancelHandle = (handle: Handle) =>
  Effect.sync(() => {
    const cancel = handle.cancel
    handle.cancel = undefined
    if (cancel !== undefined) cancel()
  })

const runJob = <Args, A, E>(job: Job<Args, A, E>, resume: (effect: Effect.Effect<A, E>) => void) => {
  const args = job.args!
  job.args = undefined
  job.start(args, resume, job)
  return cancelHandle(job)
}

const asyncJob = <Args, A, E>(job: Job<Args, A, E>): Effect.Effect<A, E> =>
  Effect.async<A, E>((resume) => runJob(job, resume))

const callback = <A, E, Args>(
  args: Args,
  start: (args: Args, resume: (effect: Effect.Effect<A, E>) => void, handle: Handle) => void
): Effect.Effect<A, E> => Effect.suspend(() => asyncJob<Args, A, E>({ args, start, cancel: undefined }))

interface BodyRead {
  readonly response: NodeClientResponse
  readonly max: number
}

const startBodyRead = (
  { max, response }: BodyRead,
  resume: (effect: Effect.Effect<Buffer, HttpClientError.ResponseError>) => void,
  handle: Handle
): void => {
  const waiter = (r: BodyBytes) => {
    handle.cancel = undefined
    resume(r._tag === "bytes" ? Effect.succeed(r.bytes) : Effect.fail(r.error))
  }
  const cancel = () => response.removeWaiter(waiter)
  handle.cancel = cancel
  response.addWaiter(waiter, max)
}

/** @internal */
export class NodeClientResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  private result: BodyBytes | undefined = undefined
  private waiters: Array<(result: BodyBytes) => void> | undefined = undefined
  private cachedHeaders: Headers.Headers | undefined = undefined
  private cachedCookies: Cookies.Cookies | undefined = undefined
  /** set when the stall or deadline timer fired: body failures then carry its cause and description */
  timedOut: StallError | DeadlineError | undefined = undefined

  /** kept: `source.socket` is detached once the body was read and the connection went back to the agent */
  private readonly socket: { readonly remoteAddress?: string | undefined } | null

  constructor(readonly request: HttpClientRequest.HttpClientRequest, readonly source: Http.IncomingMessage) {
    super()
    this.socket = source.socket
  }

  get status(): number {
    return this.source.statusCode ?? 0
  }

  get headers(): Headers.Headers {
    return this.cachedHeaders ??= Headers.fromInput(this.source.headers as Headers.Input)
  }

  get cookies(): Cookies.Cookies {
    if (this.cachedCookies !== undefined) return this.cachedCookies
    const header = this.source.headers["set-cookie"]
    return this.cachedCookies = Array.isArray(header) ? Cookies.fromSetCookie(header) : Cookies.empty
  }

  get remoteAddress(): Option.Option<string> {
    return Option.fromNullable(this.socket?.remoteAddress)
  }

  private error(reason: "Decode" | "EmptyBody", cause: unknown, description?: string): HttpClientError.ResponseError {
    const timedOut = this.timedOut
    return new HttpClientError.ResponseError({
      request: this.request,
      response: this,
      reason,
      cause: timedOut ?? cause,
      ...(timedOut !== undefined ?
        { description: timedOut.message } :
        description !== undefined ?
        { description } :
        {})
    })
  }

  /** destroys the response when its body is still being received (e.g. abandoned or interrupted) */
  abandon(): void {
    if (!this.source.complete && !this.source.destroyed) this.source.destroy()
  }

  /** the whole body, read once (every body accessor shares it) */
  get bytes(): Effect.Effect<Buffer, HttpClientError.ResponseError> {
    return Effect.withFiberRuntime((fiber) => {
      const result = this.result
      if (result !== undefined) {
        return result._tag === "bytes"
          ? Effect.succeed(result.bytes)
          : Effect.fail(result.error)
      }
      const max = Option.getOrUndefined(Context.get(fiber.currentContext, HttpIncomingMessage.MaxBodySize))
      const read: BodyRead = { response: this, max: max === undefined ? Infinity : Number(max) }
      return callback(read, startBodyRead)
    })
  }

  /** @internal */
  addWaiter(waiter: (result: BodyBytes) => void, maxBytes: number): void {
    if (this.result !== undefined) return waiter(this.result)
    if (this.waiters !== undefined) {
      this.waiters.push(waiter)
    } else {
      this.waiters = [waiter]
      this.consume(maxBytes)
    }
  }

  /** @internal */
  removeWaiter(waiter: (result: BodyBytes) => void): void {
    const waiters = this.waiters
    if (waiters === undefined) return
    const i = waiters.indexOf(waiter)
    if (i >= 0) waiters.splice(i, 1)
    if (waiters.length === 0) {
      this.waiters = undefined
      this.settle({ _tag: "failed", error: this.error("Decode", new Error("body read interrupted")) })
      this.abandon()
    }
  }

  private settle(result: BodyBytes): void {
    if (this.result !== undefined) return
    this.result = result
    const waiters = this.waiters
    this.waiters = undefined
    if (waiters !== undefined) { for (const w of waiters) w(result) }
  }

  private consume(maxBytes: number): void {
    const source = this.source
    // destroyed (stalled, abandoned, connection lost) or consumed before anyone read it: no event will come
    if (source.destroyed || source.readableEnded) {
      const why = source.readableEnded ? "the body was already consumed" : "response destroyed before its body was read"
      this.settle({ _tag: "failed", error: this.error("Decode", source.errored ?? new Error(why), why) })
      return
    }
    const chunks: Array<Buffer> = []
    let length = 0
    const cleanup = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.off("close", onClose)
    }
    const onData = (chunk: Buffer) => {
      length += chunk.length
      if (length > maxBytes) {
        cleanup()
        this.settle({ _tag: "failed", error: this.error("Decode", new Error(`body larger than ${maxBytes} bytes`)) })
        source.destroy()
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)
      this.settle({ _tag: "bytes", bytes })
    }
    const onError = (cause: unknown) => {
      cleanup()
      this.settle({ _tag: "failed", error: this.error("Decode", cause) })
    }
    const onClose = () => {
      cleanup()
      this.settle({
        _tag: "failed",
        error: this.error("Decode", new Error("response closed before its end"), "response closed before its end")
      })
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    source.on("close", onClose)
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (b) => b.toString("utf8"))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => text === "" ? null : JSON.parse(text) as unknown,
        catch: (cause) => this.error("Decode", cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.error("Decode", cause)
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (b) => {
      const copy = new ArrayBuffer(b.length)
      new Uint8Array(copy).set(b)
      return copy
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.suspend(() => {
      const result = this.result
      if (result !== undefined) {
        return result._tag === "bytes" ? Stream.succeed(result.bytes) : Stream.fail(result.error)
      }
      if (this.waiters !== undefined) return Stream.fromEffect(this.bytes)
      // the body is streamed once; later body reads fail
      this.settle({ _tag: "failed", error: this.error("Decode", new Error("the body was consumed as a stream")) })
      return NodeStream.fromReadable<HttpClientError.ResponseError, Uint8Array>(
        () => this.source,
        (cause) => this.error("Decode", cause)
      )
    })
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.fail(
      this.error("Decode", new Error("formData is not supported"), "formData is not supported by this HttpClient")
    )
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

type Pieces = ReadonlyArray<Uint8Array | string>

interface SendArgs {
  readonly request: HttpClientRequest.HttpClientRequest
  readonly url: URL
  readonly signal: AbortSignal | undefined
  readonly limits: Window
  readonly pieces: Pieces | Readable | undefined
  /**
   * for the direct client: the response is handed over once its body is read (or failed), so reading it costs no
   * second wait (`maxBody` bytes at most)
   */
  readonly readBody: boolean
  readonly maxBody: number
}

const isPieceArray = (u: unknown): u is Pieces =>
  Array.isArray(u) && u.every((p) => p instanceof Uint8Array || typeof p === "string")

const bodyLength = (pieces: Pieces): number => {
  let n = 0
  for (const p of pieces) n += typeof p === "string" ? Buffer.byteLength(p) : p.length
  return n
}

/** @internal */
export const make = (options: Options = {}): Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> =>
  Effect.gen(function*() {
    const agentOptions: Http.AgentOptions = {
      keepAlive: true,
      keepAliveMsecs: options.keepAliveMsecs ?? 1000,
      maxSockets: options.maxSockets ?? 16,
      maxFreeSockets: options.maxFreeSockets ?? options.maxSockets ?? 16
    }
    const httpAgent = yield* Effect.acquireRelease(
      Effect.sync(() => new Http.Agent(agentOptions)),
      (agent) => Effect.sync(() => agent.destroy())
    )
    // created on first use: most endpoints are one scheme
    let httpsAgent: Https.Agent | undefined
    yield* Effect.addFinalizer(() => Effect.sync(() => httpsAgent?.destroy()))
    const stallOverride = options.stallTimeout === undefined ? undefined : Duration.decode(options.stallTimeout)
    let window: Window | undefined
    const windowFrom = (context: Context.Context<never>): Window => {
      const stall = stallOverride ?? Context.get(context, StallTimeout)
      const timeout = Context.get(context, RequestTimeout)
      if (window === undefined || window.stall !== stall || window.timeout !== timeout) {
        window = { stall, timeout, stallMs: toMillis(stall), millis: toMillis(timeout) }
      }
      return window
    }

    /** one exchange: its objects live in this scope, reachable from outside only through `handle` (see `callback`) */
    const start = (
      args: SendArgs,
      resume: (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void,
      handle: Handle
    ): void => {
      const { limits, pieces, request, signal, url } = args
      let headers: Http.OutgoingHttpHeaders = request.headers
      if (pieces !== undefined && !(pieces instanceof Readable) && request.headers["content-length"] === undefined) {
        headers = { ...request.headers, "content-length": String(bodyLength(pieces)) }
      }
      const requestOptions: Http.RequestOptions = { method: request.method, headers }
      if (limits.stallMs > 0) requestOptions.timeout = limits.stallMs
      let req: Http.ClientRequest
      if (url.protocol === "https:") {
        requestOptions.agent = httpsAgent ??= new Https.Agent({ ...agentOptions, ...options.https })
        req = Https.request(url, requestOptions)
      } else {
        requestOptions.agent = httpAgent
        req = Http.request(url, requestOptions)
      }
      let response: NodeClientResponse | undefined
      let timedOut: StallError | DeadlineError | undefined
      // the answer window: one timer, cleared once the answer is complete or the request failed
      let timer: ReturnType<typeof setTimeout> | undefined
      const clear = () => {
        if (timer !== undefined) clearTimeout(timer)
        timer = undefined
      }
      const expire = (error: StallError | DeadlineError) => {
        // a complete answer waiting to be read is not late: no more bytes are expected
        if (response !== undefined && response.source.complete) return
        timedOut = error
        if (response !== undefined) response.timedOut = error
        req.destroy(error)
      }
      if (limits.millis > 0) {
        timer = setTimeout(() => {
          timer = undefined
          expire(new DeadlineError(limits.millis))
        }, limits.millis)
      }
      // once over (failed, or the answer's body ended), nothing is left to cancel: drop what `handle` reaches
      const over = () => {
        clear()
        handle.cancel = undefined
      }
      req.on("error", (cause) => {
        clear()
        if (response !== undefined) return // the response body reader reports it
        handle.cancel = undefined
        resume(Effect.fail(
          new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause,
            ...(timedOut !== undefined ? { description: timedOut.message } : {})
          })
        ))
      })
      if (limits.stallMs > 0) req.on("timeout", () => expire(new StallError(limits.stallMs)))
      req.on("response", (res) => {
        const r = new NodeClientResponse(request, res)
        response = r
        res.once("end", over).once("close", over)
        // HttpClient aborts the signal when an unread response is garbage collected or its body read is
        // interrupted: release the connection then. The handler must not reference `r` (the registry's target;
        // the signal is reachable from its held value, so a reference would keep `r` alive forever). It is bound
        // to a name before the property is set: V8 would allocate the literal in the old generation (`callback`).
        if (signal !== undefined) {
          const onAbort = () => {
            if (!res.complete && !res.destroyed) res.destroy()
          }
          signal.onabort = onAbort
        }
        if (args.readBody) r.addWaiter(() => resume(Effect.succeed(r)), args.maxBody)
        else resume(Effect.succeed(r))
      })
      if (pieces === undefined) {
        req.end()
      } else if (pieces instanceof Readable) {
        pieces.on("error", (cause) => req.destroy(cause))
        pieces.pipe(req)
      } else {
        const last = pieces.length - 1
        for (let k = 0; k < last; k++) req.write(pieces[k]!)
        if (last >= 0) req.end(pieces[last]!)
        else req.end()
      }
      const cancel = () => {
        clear()
        if (response === undefined) req.destroy()
        else response.abandon()
      }
      handle.cancel = cancel
    }
    const send = (
      request: HttpClientRequest.HttpClientRequest,
      url: URL,
      signal: AbortSignal | undefined,
      limits: Window,
      pieces: Pieces | Readable | undefined,
      maxBody: number | undefined
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
      callback({
        request,
        url,
        signal,
        limits,
        pieces,
        readBody: maxBody !== undefined,
        maxBody: maxBody ?? Infinity
      }, start)

    const encodeError = (request: HttpClientRequest.HttpClientRequest, description: string, cause?: unknown) =>
      Effect.fail(new HttpClientError.RequestError({ request, reason: "Encode", cause, description }))

    const run = (
      request: HttpClientRequest.HttpClientRequest,
      url: URL,
      signal: AbortSignal | undefined,
      fiber: Fiber.RuntimeFiber<unknown, unknown>,
      readBody: boolean
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
      const limits = windowFrom(fiber.currentContext)
      const max = readBody
        ? Option.match(Context.get(fiber.currentContext, HttpIncomingMessage.MaxBodySize), {
          onNone: () => Infinity,
          onSome: Number
        })
        : undefined
      const body: HttpBody.HttpBody = request.body
      switch (body._tag) {
        case "Empty":
          return send(request, url, signal, limits, undefined, max)
        case "Uint8Array":
          return send(request, url, signal, limits, [body.body], max)
        case "Raw": {
          const raw = body.body
          if (raw instanceof Uint8Array || typeof raw === "string") {
            return send(request, url, signal, limits, [raw], max)
          }
          if (isPieceArray(raw)) return send(request, url, signal, limits, raw, max)
          if (raw instanceof Readable) return send(request, url, signal, limits, raw, max)
          if (raw !== null && typeof raw === "object" && Symbol.asyncIterator in raw) {
            return send(request, url, signal, limits, Readable.from(raw as AsyncIterable<Uint8Array>), max)
          }
          return encodeError(request, "unsupported Raw body: expected Uint8Array pieces, a Readable or an iterable")
        }
        case "Stream":
          return Effect.flatMap(
            NodeStream.toReadable(body.stream),
            (readable) => send(request, url, signal, limits, readable, max)
          )
        case "FormData":
          return encodeError(request, "FormData bodies are not supported: send multipart bodies as Uint8Array pieces")
      }
    }
    const client = HttpClient.make((request, url, signal, fiber) => run(request, url, signal, fiber, false))
    // for the transport's own exchanges (see `Transport.DirectClient`): no AbortController, FinalizationRegistry
    // entry or response wrapper per request. With them, old-space objects (the registry's cells, and objects of
    // allocation sites V8 pretenures) kept every answered request's objects alive through minor collections until
    // the next full one: about 1 MB promoted per scavenge during an upload, 5-15 KB without.
    const direct = HttpClient.makeWith(
      (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
        Effect.flatMap(
          effect,
          (request) =>
            Effect.withFiberRuntime<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((fiber) => {
              const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
              return Either.isLeft(url)
                ? Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
                : run(request, url.right, undefined, fiber, true)
            })
        ),
      Effect.succeed
    )
    return Object.assign(client, { [AnswerDeadlines]: true, [DirectClient]: direct })
  })
