import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import * as Protocol from "@cos-v4/core/Protocol"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
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
export const headRoom = 1024

/** @internal */
export const tailRoom = 64

const encoder = new TextEncoder()
const decodeEnvelope = Schema.decodeUnknownEither(Schema.parseJson(Protocol.Envelope))

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
  const reason: CosError.TransportError["reason"] = /^stall/i.test(description) ||
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
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)
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
    const url = (path: CosPath.CosPath) => CosPath.url(cos.endpoint, cos.appId, cos.bucket, path)

    // one exchange: sign, send, read the answer; time limits per the module docs
    const exchange = (
      op: Op,
      path: CosPath.CosPath,
      once: boolean,
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<{ readonly status: number; readonly text: string }, RequestError> =>
      Effect.gen(function*() {
        const timeout = yield* RequestTimeout
        const stall = yield* StallTimeout
        const sign = yield* signer.sign({ op, path, once })
        const signed = HttpClientRequest.setHeader(request, "authorization", Redacted.value(sign))
        // one timer for the whole exchange (each timer costs ~25 µs per request): the answer (headers and the
        // small envelope body) must be complete within min(stallTimeout, requestTimeout)
        const stallFirst = Duration.lessThan(stall, timeout)
        const window = stallFirst ? stall : timeout
        return yield* client.execute(signed).pipe(
          Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text }))),
          Effect.catchTags({
            RequestError: (e) => Effect.fail(fromHttpClientError(e, op, path)),
            ResponseError: (e) => Effect.fail(fromHttpClientError(e, op, path))
          }),
          Effect.timeoutFail({
            duration: window,
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
        )
      })

    // the envelope's data on success, a typed error otherwise
    const interpret = (
      op: Op,
      path: CosPath.CosPath,
      answer: { readonly status: number; readonly text: string }
    ): Either.Either<unknown, RequestError> => {
      const { status, text } = answer
      const envelope = decodeEnvelope(text)
      if (Either.isLeft(envelope)) {
        return Either.left(
          new CosError.HttpStatusError({ reason: statusReason(status), status, body: text.slice(0, 1024), op, path }, {
            disableValidation: true
          })
        )
      }
      const env = envelope.right
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

    const decodeData = <A, I>(schema: Schema.Schema<A, I>, op: Op, path: CosPath.CosPath) => {
      const decode = Schema.decodeUnknownEither(schema)
      return (data: unknown): Either.Either<A, CosError.ProtocolError> =>
        Either.mapLeft(decode(data), (e) =>
          new CosError.ProtocolError({
            reason: "Decode",
            detail: ParseResult.TreeFormatter.formatErrorSync(e),
            op,
            path
          }, { disableValidation: true }))
    }

    const call = <A, I>(
      op: Op,
      path: CosPath.CosPath,
      once: boolean,
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<A, RequestError> => {
      const decode = decodeData(schema, op, path)
      return Effect.flatMap(
        exchange(op, path, once, request),
        (answer) => Either.flatMap(interpret(op, path, answer), decode)
      )
    }

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
        call(
          "upload_slice_data",
          o.path,
          false,
          form(
            o.path,
            envelope([["op", "upload_slice_data"], ["session", o.session], ["offset", String(o.offset)], [
              "sha",
              o.sha
            ]], o.content)
          ),
          Protocol.SliceDataData
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
            return Either.match(decodeData(Protocol.SliceListData, "upload_slice_list", path)(value), {
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
