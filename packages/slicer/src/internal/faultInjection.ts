import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import * as Protocol from "@cos-v4/core/Protocol"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import type { Fault, Injected, Injector, RandomOptions, Rule, Target } from "../FaultInjection.js"
import { parseMultipart } from "./memoryServer.js"

const decoder = new TextDecoder()

/** @internal */
export const describeRequest = (request: HttpClientRequest.HttpClientRequest): Omit<Target, "index"> => {
  let url: URL
  try {
    url = new URL(request.url)
  } catch {
    return { op: "", path: "", offset: undefined }
  }
  const location = CosPath.parseRequestPath(url.pathname)
  const path = Either.isRight(location) ? location.right.path : url.pathname
  let fields: Record<string, string> = Protocol.normalizeFields([...url.searchParams.entries(), ...request.urlParams])
  const body = request.body
  if (body._tag === "Uint8Array") {
    const contentType = request.headers["content-type"] ?? ""
    if (contentType.startsWith("multipart/form-data")) {
      fields = { ...fields, ...parseMultipart(body.body, contentType, true).fields }
    } else {
      const json = Either.try(() => JSON.parse(decoder.decode(body.body)) as unknown)
      if (Either.isRight(json) && typeof json.right === "object" && json.right !== null) {
        fields = { ...fields, ...Protocol.normalizeFields(Object.entries(json.right).map(([k, v]) => [k, String(v)])) }
      }
    }
  }
  const offset = fields.offset === undefined ? undefined : Number(fields.offset)
  return { op: fields.op ?? "", path, offset }
}

const matches = (rule: Rule, target: Target): boolean => {
  if (rule.request !== undefined && rule.request !== target.index) return false
  if (rule.op !== undefined) {
    const ops = typeof rule.op === "string" ? [rule.op] : rule.op
    if (!ops.includes(target.op)) return false
  }
  if (rule.path !== undefined && rule.path !== target.path) return false
  if (rule.offset !== undefined && rule.offset !== target.offset) return false
  return true
}

const envelope = (request: HttpClientRequest.HttpClientRequest, reason: Exclude<CosError.ServerReason, "Unknown">) => {
  const c = CosError.codeOf(reason)
  return HttpClientResponse.fromWeb(
    request,
    new Response(JSON.stringify({ code: c.code, message: c.message, request_id: "injected" }), {
      status: c.status,
      headers: { "content-type": "application/json" }
    })
  )
}

const buffered = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.arrayBuffer, (buffer) =>
    HttpClientResponse.fromWeb(
      response.request,
      new Response(buffer, { status: response.status, headers: response.headers })
    ))

/** @internal */
export const make = (rules: ReadonlyArray<Rule>): Injector => {
  const state = rules.map((rule) => ({ rule, seen: 0, fired: 0 }))
  const injected: Array<Injected> = []
  let requests = 0
  let delivered = 0
  const waiting = new Set<Deferred.Deferred<void>>()

  const pick = (target: Target): Fault | undefined => {
    let chosen: Fault | undefined
    for (const s of state) {
      if (!matches(s.rule, target)) continue
      s.seen++
      const nth = s.rule.nth ?? 1
      const times = s.rule.times ?? 1
      if (chosen === undefined && s.seen >= nth && s.fired < times) {
        s.fired++
        chosen = s.rule.fault
      }
    }
    return chosen
  }

  const deliver = Effect.suspend(() => {
    delivered++
    const all = Array.from(waiting)
    waiting.clear()
    return Effect.forEach(all, (d) => Deferred.succeed(d, undefined), { discard: true })
  })

  const reset = (request: HttpClientRequest.HttpClientRequest, afterBytes: number, reached: boolean) =>
    new HttpClientError.RequestError({
      request,
      reason: "Transport",
      cause: { code: "ECONNRESET", message: "socket hang up" },
      description: `connection reset after ${afterBytes} bytes (injected; ${
        reached ? "the request reached the server" : "the request did not reach the server"
      })`
    })

  // the first `n` bytes of the body go out, then the connection breaks: the server sees a truncated request
  const partial = (client: HttpClient.HttpClient, request: HttpClientRequest.HttpClientRequest, n: number) => {
    const body = request.body
    if (body._tag !== "Uint8Array" || n <= 0) return Effect.void
    const error = reset(request, n, false)
    const stream = Stream.succeed(body.body.subarray(0, Math.min(n, body.body.length - 1))).pipe(
      Stream.concat(Stream.fail(error))
    )
    return client.execute(
      HttpClientRequest.setBody(request, HttpBody.stream(stream, body.contentType, body.body.length))
    )
      .pipe(Effect.flatMap((r) => r.arrayBuffer), Effect.ignore)
  }

  const apply = (
    fault: Fault,
    forward: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>,
    request: HttpClientRequest.HttpClientRequest,
    client: HttpClient.HttpClient
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
    const consumed = Effect.flatMap(forward, (r) => Effect.asVoid(r.arrayBuffer))
    switch (fault._tag) {
      case "Code":
        return Effect.as(fault.reached ? consumed : Effect.void, envelope(request, fault.reason))
      case "Status":
        return Effect.as(
          fault.reached ? consumed : Effect.void,
          HttpClientResponse.fromWeb(
            request,
            new Response(fault.body ?? "", {
              status: fault.status,
              headers: fault.body === undefined ? {} : { "content-type": "application/json" }
            })
          )
        )
      case "Reset":
        return Effect.zipRight(
          fault.reached ? consumed : partial(client, request, fault.afterBytes),
          Effect.fail(reset(request, fault.afterBytes, fault.reached))
        )
      case "Stall":
        return fault.duration === undefined ? Effect.never : Effect.zipRight(Effect.sleep(fault.duration), forward)
      case "StallBody":
        return Effect.succeed(
          HttpClientResponse.fromWeb(request, new Response(new ReadableStream({ start() {} }), { status: 200 }))
        )
      case "Delay":
        return Effect.flatMap(forward, (response) => Effect.as(Effect.sleep(fault.duration), response))
      case "Duplicate":
        return Effect.zipRight(consumed, forward)
      case "Reorder":
        return Effect.flatMap(
          Effect.flatMap(forward, buffered),
          (response) =>
            Effect.flatMap(Deferred.make<void>(), (d) =>
              Effect.sync(() => waiting.add(d)).pipe(
                Effect.zipRight(Effect.raceFirst(Deferred.await(d), Effect.sleep(fault.hold))),
                Effect.ensuring(Effect.sync(() => waiting.delete(d))),
                Effect.as(response)
              ))
        )
    }
  }

  const injector: Injector = {
    injected,
    get requests() {
      return requests
    },
    get delivered() {
      return delivered
    },
    inFlight: 0,
    wrap: (client) =>
      HttpClient.transform(client, (effect, request) =>
        Effect.suspend(() => {
          const target: Target = { index: requests++, ...describeRequest(request) }
          const fault = pick(target)
          if (fault !== undefined) injected.push({ ...target, fault })
          injector.inFlight++
          const answer = fault === undefined ? effect : apply(fault, effect, request, client)
          return answer.pipe(
            Effect.tap(() => fault?._tag === "Reorder" ? Effect.void : deliver),
            Effect.ensuring(Effect.sync(() => injector.inFlight--))
          )
        }))
  }
  return injector
}

const retryable: ReadonlyArray<Exclude<CosError.ServerReason, "Unknown">> = ["InternalError", "RequestTimeout"]
const terminal: ReadonlyArray<Exclude<CosError.ServerReason, "Unknown">> = ["AuthFailed", "NoSuchOp"]

/** @internal */
export const random = (options: RandomOptions): Effect.Effect<ReadonlyArray<Rule>> => {
  const rng = Random.make(options.seed)
  const horizon = options.requests ?? 64
  const maxStall = Duration.toMillis(options.maxStall ?? Duration.seconds(60))
  const entries = Object.entries(options.rates).filter(([, r]) => r !== undefined && r > 0) as Array<
    [keyof RandomOptions["rates"], number]
  >
  return Effect.gen(function*() {
    const rules: Array<Rule> = []
    let initNotFinished = false
    const int = (min: number, max: number) => rng.nextIntBetween(min, max + 1)
    const millis = Effect.map(int(1, maxStall), Duration.millis)
    for (let index = 0; index < horizon; index++) {
      let draw = yield* rng.next
      let kind: keyof RandomOptions["rates"] | undefined
      for (const [k, rate] of entries) {
        if (draw < rate) {
          kind = k
          break
        }
        draw -= rate
      }
      if (kind === undefined) continue
      const reached = yield* rng.nextBoolean
      let fault: Fault
      switch (kind) {
        case "retryableCode":
          fault = { _tag: "Code", reason: retryable[yield* int(0, retryable.length - 1)]!, reached }
          break
        case "terminalCode":
          fault = { _tag: "Code", reason: terminal[yield* int(0, terminal.length - 1)]!, reached: false }
          break
        case "status":
          fault = (yield* rng.nextBoolean)
            ? { _tag: "Status", status: [500, 502, 503, 504][yield* int(0, 3)]!, reached }
            : { _tag: "Status", status: 503, body: "{\"error\":\"busy\"}", reached }
          break
        case "reset":
          fault = { _tag: "Reset", afterBytes: yield* int(0, 4096), reached }
          break
        case "stall":
          fault = (yield* rng.nextBoolean) ? { _tag: "Stall" } : { _tag: "Stall", duration: yield* millis }
          break
        case "stallBody":
          fault = { _tag: "StallBody" }
          break
        case "delay":
          fault = { _tag: "Delay", duration: yield* millis }
          break
        case "duplicate":
          fault = { _tag: "Duplicate" }
          break
        case "reorder":
          fault = { _tag: "Reorder", hold: yield* millis }
          break
        case "expireSignature":
          fault = { _tag: "Code", reason: "AuthExpired", reached: false }
          break
        case "initNotFinished":
          fault = { _tag: "Code", reason: "UploadNotFinished", reached: false }
          if (initNotFinished) continue
          initNotFinished = true
          rules.push({ op: "upload_slice_init", nth: yield* int(1, 3), fault })
          continue
      }
      rules.push({ request: index, fault })
    }
    return rules
  })
}
