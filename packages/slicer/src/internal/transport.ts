import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import * as Protocol from "@cos-v4/core/Protocol"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { CosConfig } from "../CosConfig.js"
import { Signer } from "../Signer.js"
import type { Payload, RequestError, Transport } from "../Transport.js"
import { RequestTimeout, StallTimeout } from "../UploadOptions.js"

/** @internal */
export const AnswerDeadlines: unique symbol = Symbol.for("@cos-v4/slicer/Transport/AnswerDeadlines")

/** @internal */
export const DirectClient: unique symbol = Symbol.for("@cos-v4/slicer/Transport/DirectClient")

/** @internal */
export const headRoom = 1024

/** @internal */
export const tailRoom = 64

const encoder = new TextEncoder()

interface Envelope {
  readonly code: number
  readonly message: string
  readonly request_id?: string | undefined
  readonly data?: unknown
}

/**
 * `Schema.parseJson(Protocol.Envelope)` by hand (it runs once per request): the same acceptance (a JSON object
 * with a numeric `code`, a string `message`, an optional string `request_id`, any `data`), `undefined` when the
 * text is not such an envelope.
 */
const decodeEnvelope = (text: string): Envelope | undefined => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const { code, data, message, request_id } = value as Record<string, unknown>
  if (typeof code !== "number" || typeof message !== "string") return undefined
  if (request_id !== undefined && typeof request_id !== "string") return undefined
  return { code, message, request_id, data }
}

const isIndex = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0

/**
 * The common shape of an `upload_slice_data` answer (numbers as JSON numbers), checked by hand; anything else
 * goes through the schema (which also accepts decimal strings and formats the errors).
 */
const fastSliceData = (u: unknown): Protocol.SliceDataData | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const { datalen, datamd5, offset, serial_upload, session } = u as Record<string, unknown>
  if (typeof session !== "string" || !isIndex(offset) || !isIndex(datalen)) return undefined
  if (serial_upload !== undefined && !isIndex(serial_upload)) return undefined
  if (datamd5 !== undefined && typeof datamd5 !== "string") return undefined
  const out: { -readonly [K in keyof Protocol.SliceDataData]: Protocol.SliceDataData[K] } = { session, offset, datalen }
  if (serial_upload !== undefined) out.serial_upload = serial_upload
  if (datamd5 !== undefined) out.datamd5 = datamd5
  return out
}

type Op = CosError.Op

const errorCode = (cause: unknown): string | undefined =>
  Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? cause.code : undefined

/** @internal */
export const fromHttpClientError = (
  error: HttpClientError.HttpClientError,
  op: Op,
  path: string
): CosError.TransportError => {
  const description = error.description ?? ""
  const code = errorCode(error.cause)
  const reason: CosError.TransportError["reason"] = /^timeout/i.test(description)
    ? "Timeout"
    : /^stall/i.test(description) ||
        code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT"
    ? "Stalled"
    : code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED"
    ? "Reset"
    : code === "ECONNREFUSED"
    ? "Refused"
    : Predicate.hasProperty(error.cause, "name") && error.cause.name === "AbortError"
    ? "Aborted"
    : error._tag === "ResponseError"
    ? "Reset"
    : "Other"
  return new CosError.TransportError({
    reason,
    detail: description === "" ? error.message : description,
    cause: error.cause,
    op,
    path
  }, { disableValidation: true })
}

const statusReason = (status: number): CosError.HttpStatusError["reason"] =>
  status === 404 ? "NotFound" : status >= 500 ? "ServerError" : status >= 400 ? "ClientError" : "NotJson"

/** @internal */
export const make: Effect.Effect<Transport.Service, never, HttpClient.HttpClient | Signer | CosConfig> = Effect.gen(
  function*() {
    const rawClient = yield* HttpClient.HttpClient
    // the client applies the answer window itself: no racing timer fiber per request here
    const clientDeadlines = (rawClient as { readonly [AnswerDeadlines]?: unknown })[AnswerDeadlines] === true
    // no spans for these requests. `withTracerDisabledWhen` costs a FiberRef `locally` per request, so it is
    // skipped when the calling fiber has the tracer off anyway (the uploader's slice phase does)
    const tracedClient = HttpClient.withTracerDisabledWhen(rawClient, () => true)
    const directClient = (rawClient as { readonly [DirectClient]?: HttpClient.HttpClient })[DirectClient]
    const signer = yield* Signer
    const cos = yield* CosConfig
    const boundary = `----cosv4${(yield* Random.nextIntBetween(0, 2 ** 30)).toString(36)}${
      (yield* Random.nextIntBetween(0, 2 ** 30)).toString(36)
    }`
    const contentType = `multipart/form-data; boundary=${boundary}`
    const part = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
    const contentHead =
      `--${boundary}\r\nContent-Disposition: form-data; name="filecontent"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`
    const tail = encoder.encode(`\r\n--${boundary}--\r\n`)
    const fieldsHead = (fields: ReadonlyArray<readonly [string, string | undefined]>): string => {
      let out = ""
      for (const [name, value] of fields) if (value !== undefined) out += part(name, value)
      return out
    }
    const formBody = (fields: ReadonlyArray<readonly [string, string | undefined]>): Uint8Array =>
      encoder.encode(`${fieldsHead(fields)}--${boundary}--\r\n`)
    // the envelope: head right-aligned before the content, tail after it, one subarray; copy only when needed
    const envelope = (fields: ReadonlyArray<readonly [string, string | undefined]>, payload: Payload): Uint8Array => {
      const head = encoder.encode(fieldsHead(fields) + contentHead)
      const { buffer, length, start } = payload
      const end = start + length
      if (head.length <= start && buffer.length - end >= tail.length) {
        buffer.set(head, start - head.length)
        buffer.set(tail, end)
        return buffer.subarray(start - head.length, end + tail.length)
      }
      const out = new Uint8Array(head.length + length + tail.length)
      out.set(head, 0)
      out.set(buffer.subarray(start, end), head.length)
      out.set(tail, head.length + length)
      return out
    }
    // the same path over and over during an upload: keep the last URL
    let lastPath: string | undefined
    let lastUrl = ""
    const url = (path: CosPath.CosPath) => {
      if (path !== lastPath) {
        lastUrl = CosPath.url(cos.endpoint, cos.appId, cos.bucket, path)
        lastPath = path
      }
      return lastUrl
    }

    // one exchange: sign, send, read the answer; time limits per the module docs. Kept to few Effect steps: it
    // runs once per slice.
    const exchange = (
      op: Op,
      path: CosPath.CosPath,
      once: boolean,
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<{ readonly status: number; readonly text: string }, RequestError> =>
      Effect.withFiberRuntime((fiber) => {
        const client = directClient ?? (fiber.getFiberRef(FiberRef.currentTracerEnabled) ? tracedClient : rawClient)
        return Effect.flatMap(signer.sign({ op, path, once }), (sign) => {
          const answer = client.execute(HttpClientRequest.setHeader(request, "authorization", Redacted.value(sign)))
            .pipe(
              Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text }))),
              Effect.mapError((e) => fromHttpClientError(e, op, path))
            )
          return clientDeadlines ? answer : withinWindow(fiber.currentContext, answer, op, path)
        })
      })

    // one timer for the whole exchange (each timer costs ~25 µs per request): the answer (headers and the small
    // envelope body) must be complete within min(stallTimeout, requestTimeout)
    let windowFor: { timeout: Duration.Duration; stall: Duration.Duration; stallFirst: boolean } | undefined
    const withinWindow = <A>(
      context: Context.Context<never>,
      answer: Effect.Effect<A, RequestError>,
      op: Op,
      path: CosPath.CosPath
    ): Effect.Effect<A, RequestError> => {
      const timeout = Context.get(context, RequestTimeout)
      const stall = Context.get(context, StallTimeout)
      if (windowFor === undefined || windowFor.timeout !== timeout || windowFor.stall !== stall) {
        windowFor = { timeout, stall, stallFirst: Duration.lessThan(stall, timeout) }
      }
      const stallFirst = windowFor.stallFirst
      return Effect.timeoutFail(answer, {
        duration: stallFirst ? stall : timeout,
        onTimeout: () =>
          new CosError.TransportError({
            reason: stallFirst ? "Stalled" : "Timeout",
            detail: stallFirst ?
              `no complete answer within ${Duration.format(stall)}` :
              `no answer within ${Duration.format(timeout)}`,
            op,
            path
          }, { disableValidation: true })
      })
    }

    // the envelope's data on success, a typed error otherwise
    const interpret = (
      op: Op,
      path: CosPath.CosPath,
      answer: { readonly status: number; readonly text: string }
    ): Either.Either<unknown, RequestError> => {
      const { status, text } = answer
      const env = decodeEnvelope(text)
      if (env === undefined) {
        return Either.left(
          new CosError.HttpStatusError({ reason: statusReason(status), status, body: text.slice(0, 1024), op, path }, {
            disableValidation: true
          })
        )
      }
      if (env.code !== 0) {
        return Either.left(
          CosError.fromServer({ code: env.code, message: env.message, requestId: env.request_id, status, op, path })
        )
      }
      if (status < 200 || status >= 300) {
        return Either.left(
          new CosError.HttpStatusError({
            reason: statusReason(status),
            status,
            body: text.slice(0, 1024),
            requestId: env.request_id,
            op,
            path
          }, { disableValidation: true })
        )
      }
      return Either.right(env.data ?? {})
    }

    // one decoder per schema, made once
    const decoders = new WeakMap<object, (data: unknown) => Either.Either<unknown, ParseResult.ParseError>>()
    // `answer`: the exchange, whose envelope's request id a decode failure carries (parsed again only then)
    const decodeData = <A, I>(
      schema: Schema.Schema<A, I>,
      op: Op,
      path: CosPath.CosPath,
      answer: { readonly text: string }
    ) => {
      let decode = decoders.get(schema)
      if (decode === undefined) {
        decode = Schema.decodeUnknownEither(schema)
        decoders.set(schema, decode)
      }
      const run = decode as (data: unknown) => Either.Either<A, ParseResult.ParseError>
      return (data: unknown): Either.Either<A, CosError.ProtocolError> =>
        Either.mapLeft(run(data), (e) =>
          new CosError.ProtocolError({
            reason: "Decode",
            detail: ParseResult.TreeFormatter.formatErrorSync(e),
            op,
            path,
            requestId: decodeEnvelope(answer.text)?.request_id
          }, { disableValidation: true }))
    }

    const call = <A, I>(
      op: Op,
      path: CosPath.CosPath,
      once: boolean,
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<A, RequestError> =>
      Effect.flatMap(
        exchange(op, path, once, request),
        (answer) => Either.flatMap(interpret(op, path, answer), decodeData(schema, op, path, answer))
      )

    const form = (path: CosPath.CosPath, body: Uint8Array) =>
      HttpClientRequest.post(url(path)).pipe(HttpClientRequest.bodyUint8Array(body, contentType))
    const json = (path: CosPath.CosPath, body: object) =>
      HttpClientRequest.post(url(path)).pipe(HttpClientRequest.bodyText(JSON.stringify(body), "application/json"))
    const flag = (b: boolean | undefined) => b === undefined ? undefined : b ? "1" : "0"
    const empty = Schema.Unknown

    const service: Transport.Service = {
      uploadSimple: (o) =>
        call(
          "upload",
          o.path,
          false,
          form(
            o.path,
            envelope([["op", "upload"], ["sha", o.sha], ["biz_attr", o.bizAttr], [
              "insertOnly",
              flag(o.insertOnly)
            ]], o.content)
          ),
          Protocol.AccessInfo
        ),
      sliceInit: (o) =>
        call(
          "upload_slice_init",
          o.path,
          false,
          form(
            o.path,
            formBody([
              ["op", "upload_slice_init"],
              ["filesize", String(o.fileSize)],
              ["slice_size", String(o.sliceSize)],
              ["sha", o.sha],
              ["uploadparts", o.uploadParts === undefined ? undefined : JSON.stringify(o.uploadParts)],
              ["biz_attr", o.bizAttr],
              ["insertOnly", flag(o.insertOnly)]
            ])
          ),
          Protocol.SliceInitData
        ),
      sliceData: (o) =>
        Effect.flatMap(
          exchange(
            "upload_slice_data",
            o.path,
            false,
            form(
              o.path,
              envelope([["op", "upload_slice_data"], ["session", o.session], ["offset", String(o.offset)], [
                "sha",
                o.sha
              ]], o.content)
            )
          ),
          (answer) =>
            Either.flatMap(interpret("upload_slice_data", o.path, answer), (data) => {
              const fast = fastSliceData(data)
              return fast !== undefined
                ? Either.right(fast)
                : decodeData(Protocol.SliceDataData, "upload_slice_data", o.path, answer)(data)
            })
        ),
      sliceList: (path) =>
        Effect.flatMap(
          exchange("upload_slice_list", path, false, form(path, formBody([["op", "upload_slice_list"]]))),
          (answer): Effect.Effect<Option.Option<Protocol.SliceListData>, RequestError> => {
            if (answer.status === 404) return Effect.succeedNone
            const data = interpret("upload_slice_list", path, answer)
            if (Either.isLeft(data)) {
              const e = data.left
              return e._tag === "ServerError" && (e.reason === "NotFound" || e.reason === "SessionNotFound")
                ? Effect.succeedNone
                : Effect.fail(e)
            }
            const value = data.right
            if (!Predicate.hasProperty(value, "session") && !Predicate.hasProperty(value, "access_url")) {
              return Effect.succeedNone
            }
            return Either.match(decodeData(Protocol.SliceListData, "upload_slice_list", path, answer)(value), {
              onLeft: Effect.fail,
              onRight: (v) => Effect.succeed(Option.some(v))
            })
          }
        ),
      sliceFinish: (o) =>
        call(
          "upload_slice_finish",
          o.path,
          false,
          form(
            o.path,
            formBody([["op", "upload_slice_finish"], ["session", o.session], ["filesize", String(o.fileSize)], [
              "sha",
              o.sha
            ]])
          ),
          Protocol.AccessInfo
        ),
      stat: (path) =>
        call("stat", path, false, HttpClientRequest.get(url(path), { urlParams: { op: "stat" } }), Protocol.StatData),
      remove: (path) => Effect.asVoid(call("delete", path, true, json(path, { op: "delete" }), empty)),
      createDirectory: (path, o) =>
        Effect.asVoid(
          call(
            "create",
            path,
            false,
            json(path, o?.bizAttr === undefined ? { op: "create" } : { op: "create", biz_attr: o.bizAttr }),
            empty
          )
        ),
      listDirectory: (path, o) => {
        const params: Record<string, string> = { op: "list", num: String(o?.num ?? 199) }
        if (o?.context !== undefined) params.context = o.context
        if (o?.pattern !== undefined) params.pattern = o.pattern
        if (o?.order !== undefined) params.order = String(o.order)
        return call("list", path, false, HttpClientRequest.get(url(path), { urlParams: params }), Protocol.ListData)
      },
      update: (path, o) => {
        const body: Record<string, unknown> = { op: "update" }
        if (o.bizAttr !== undefined) body.biz_attr = o.bizAttr
        if (o.authority !== undefined) body.authority = o.authority
        if (o.customHeaders !== undefined) body.custom_headers = o.customHeaders
        return Effect.asVoid(call("update", path, true, json(path, body), empty))
      },
      move: (path, destination, o) =>
        Effect.asVoid(
          call(
            "move",
            path,
            true,
            json(path, { op: "move", dest_fileid: destination, to_over_write: o?.overwrite === true ? "1" : "0" }),
            empty
          )
        )
    }
    return service
  }
)
