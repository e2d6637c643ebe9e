import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import * as Protocol from "@cos-v4/core/Protocol"
import * as Sha1 from "@cos-v4/core/Sha1"
import * as Signature from "@cos-v4/core/Signature"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { Options, Request, Server, Session } from "../MemoryServer.js"

/** @internal */
export const credentials: Signature.Credentials = {
  appId: "1250000000",
  secretId: "AKIDtest",
  secretKey: Redacted.make("testkey")
}

/** @internal */
export const config = { endpoint: "http://cos.test", appId: "1250000000", bucket: "bkt" }

/** @internal */
export const sha1Hex = (bytes: Uint8Array): string => {
  const h = Sha1.make()
  h.update(bytes)
  return h.digest()
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** @internal */
export const indexOf = (haystack: Uint8Array, needle: Uint8Array, from: number): number => {
  const first = needle[0]
  const last = haystack.length - needle.length
  outer: for (let i = haystack.indexOf(first!, from); i !== -1 && i <= last; i = haystack.indexOf(first!, i + 1)) {
    for (let k = 1; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer
    return i
  }
  return -1
}

/** @internal */
export const parseMultipart = (
  body: Uint8Array,
  contentType: string,
  fieldsOnly = false
): { readonly fields: Record<string, string>; readonly content: Uint8Array | undefined } => {
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1] ?? ""
  const delimiter = encoder.encode(`\r\n--${boundary}`)
  const headEnd = encoder.encode("\r\n\r\n")
  const fields: Array<[string, string]> = []
  let content: Uint8Array | undefined
  // `--B` opens the first part, `\r\n--B` every following one, `\r\n--B--` closes
  const first = indexOf(body, delimiter.subarray(2), 0)
  let start = first === -1 ? -1 : first + delimiter.length - 2
  while (start !== -1 && start < body.length) {
    if (body[start] === 45 && body[start + 1] === 45) break
    const sep = indexOf(body, headEnd, start)
    if (sep === -1) break
    const headers = decoder.decode(body.subarray(start, sep))
    const name = /name="([^"]+)"/.exec(headers)?.[1] ?? ""
    if (fieldsOnly && name.toLowerCase() === "filecontent") break
    const next = indexOf(body, delimiter, sep + 4)
    const value = body.subarray(sep + 4, next === -1 ? body.length : next)
    if (name.toLowerCase() === "filecontent") content = value.slice()
    else fields.push([name, decoder.decode(value)])
    start = next === -1 ? -1 : next + delimiter.length
  }
  return { fields: Protocol.normalizeFields(fields), content }
}

const accessInfo = (path: string): Protocol.AccessInfo => ({
  access_url: `http://bkt-1250000000.file.myqcloud.com${path}`,
  resource_path: `/1250000000/bkt${path}`,
  source_url: `http://bkt-1250000000.cossh.myqcloud.com${path}`,
  url: `http://cos.test/files/v2/1250000000/bkt${path}`
})

/** @internal */
export const make = (options: Options = {}): Server => {
  const files = new Map<string, { bytes: Uint8Array; sha: string }>()
  const sessions = new Map<string, Session>()
  const log: Server["log"] = []
  let sessionCounter = 0
  let requestId = 0

  const ok = (data: unknown) => ({
    status: 200,
    body: { code: 0, message: "SUCCESS", request_id: `r${++requestId}`, data }
  })
  const err = (reason: Exclude<CosError.ServerReason, "Unknown">) => {
    const c = CosError.codeOf(reason)
    return { status: c.status, body: { code: c.code, message: c.message, request_id: `r${++requestId}` } }
  }

  const handle = (req: Request): { status: number; body: unknown } => {
    const { fields, op, path } = req
    switch (op) {
      case "upload": {
        const bytes = req.content ?? new Uint8Array(0)
        const sha = sha1Hex(bytes)
        if (fields.sha !== undefined && fields.sha !== sha) return err("ShaMismatch")
        // as the emulator: an unfinished sliced upload holds the path
        if (sessions.has(path)) return err("UploadNotFinished")
        const existing = files.get(path)
        if (existing !== undefined && fields.insertonly === "1" && existing.sha !== sha) return err("SameFileUploaded")
        files.set(path, { bytes, sha })
        return ok(accessInfo(path))
      }
      case "upload_slice_init": {
        if (sessions.has(path)) return err("UploadNotFinished")
        const filesize = Number(fields.filesize)
        if (fields.sha !== undefined) {
          for (const file of files.values()) {
            if (file.sha === fields.sha && file.bytes.length === filesize) {
              files.set(path, file)
              return ok(accessInfo(path))
            }
          }
        }
        const session: Session = {
          session: `s${++sessionCounter}`,
          filesize,
          sliceSize: options.sliceSize ?? Number(fields.slice_size),
          sha: fields.sha,
          parts: new Map()
        }
        sessions.set(path, session)
        return ok({ session: session.session, slice_size: session.sliceSize, serial_upload: options.serialUpload ?? 0 })
      }
      case "upload_slice_data": {
        const s = sessions.get(path)
        if (s === undefined || s.session !== fields.session) return err("SessionNotFound")
        const offset = Number(fields.offset)
        const bytes = req.content ?? new Uint8Array(0)
        const expected = Math.min(s.sliceSize, s.filesize - offset)
        if (offset % s.sliceSize !== 0 || bytes.length !== expected) return err("InvalidSliceLength")
        if (s.sha !== undefined && fields.sha !== s.sha) return err("ShaMismatch")
        s.parts.set(offset, bytes.slice())
        return ok({ session: s.session, offset, datalen: bytes.length })
      }
      case "upload_slice_list": {
        const s = sessions.get(path)
        if (s === undefined) return { status: 404, body: "not found" }
        return ok({
          session: s.session,
          filesize: s.filesize,
          slice_size: s.sliceSize,
          ...(s.sha === undefined ? {} : { sha: s.sha }),
          listparts: s.parts.size === 0
            ? null
            : Array.from(s.parts.entries()).sort(([a], [b]) => a - b).map(([offset, b]) => ({
              offset,
              datalen: b.length
            }))
        })
      }
      case "upload_slice_finish": {
        const s = sessions.get(path)
        if (s === undefined || s.session !== fields.session) return err("SessionNotFound")
        if (Number(fields.filesize) !== s.filesize) return err("UploadNotFinished")
        const bytes = new Uint8Array(s.filesize)
        for (let offset = 0; offset < s.filesize; offset += s.sliceSize) {
          const part = s.parts.get(offset)
          if (part === undefined) return err("SliceMissing")
          bytes.set(part, offset)
        }
        if (s.sha !== undefined && fields.sha === undefined) return err("ShaRequired")
        const sha = sha1Hex(bytes)
        if (fields.sha !== undefined && fields.sha !== sha) return err("ShaMismatch")
        if (options.tamper === true && bytes.length > 0) bytes[0] = bytes[0]! ^ 0xff
        files.set(path, { bytes, sha: sha1Hex(bytes) })
        sessions.delete(path)
        return ok(accessInfo(path))
      }
      case "stat": {
        // as the emulator: the stored file, else the unfinished upload (`filelen`: the bytes received so far)
        const f = files.get(path)
        if (f !== undefined) {
          return ok({ name: path, filesize: f.bytes.length, filelen: f.bytes.length, sha: f.sha, ctime: 1, mtime: 1 })
        }
        const u = sessions.get(path)
        if (u === undefined) return err("NotFound")
        let received = 0
        for (const part of u.parts.values()) received += part.length
        return ok({
          name: path,
          filesize: u.filesize,
          filelen: received,
          sha: u.sha ?? "",
          slicesize: u.sliceSize,
          ctime: 1,
          mtime: 1
        })
      }
      case "delete": {
        // the stored file and the unfinished upload at the path, both
        const hadFile = files.delete(path)
        const hadSession = sessions.delete(path)
        return hadFile || hadSession ? ok({}) : err("NotFound")
      }
      default:
        return err("NoSuchOp")
    }
  }

  const server: Server = {
    files,
    sessions,
    log,
    fault: () => undefined,
    yields: () => 0,
    inFlight: 0,
    maxInFlight: 0,
    ops: (op) => log.filter((e) => e.op === op),
    sentOffsets: () => log.filter((e) => e.op === "upload_slice_data").map((e) => Number(e.fields.offset)),
    client: HttpClient.make((request, url) =>
      Effect.gen(function*() {
        const location = CosPath.parseRequestPath(url.pathname)
        if (Either.isLeft(location)) {
          return HttpClientResponse.fromWeb(request, new Response("not found", { status: 404 }))
        }
        const path = location.right.path
        let body = request.body
        if (body._tag === "Stream") {
          // a streamed body is read whole first; a stream that fails is a request that never completed
          // (e.g. FaultInjection's reset after N bytes): nothing reaches the handler
          const collected = yield* body.stream.pipe(
            Stream.mapError((cause) =>
              new HttpClientError.RequestError({ request, reason: "Transport", cause, description: "body aborted" })
            ),
            Stream.runCollect
          )
          const bytes = new Uint8Array(Chunk.reduce(collected, 0, (n, c) => n + c.length))
          let at = 0
          for (const c of collected) {
            bytes.set(c, at)
            at += c.length
          }
          body = HttpBody.uint8Array(bytes, body.contentType)
        }
        const contentType = request.headers["content-type"] ?? ""
        let fields: Record<string, string> = Protocol.normalizeFields(url.searchParams.entries())
        let content: Uint8Array | undefined
        let bodyBuffer: ArrayBufferLike | undefined
        let bodyLength = 0
        if (body._tag === "Uint8Array") {
          bodyBuffer = body.body.buffer
          bodyLength = body.body.byteLength
          if (contentType.startsWith("multipart/form-data")) {
            const parsed = parseMultipart(body.body, contentType)
            fields = { ...fields, ...parsed.fields }
            content = parsed.content
          } else {
            const json = Either.try(() => JSON.parse(decoder.decode(body.body)) as unknown)
            if (Either.isRight(json) && typeof json.right === "object" && json.right !== null) {
              fields = {
                ...fields,
                ...Protocol.normalizeFields(Object.entries(json.right).map(([k, v]) => [k, String(v)] as const))
              }
            }
          }
        }
        const req: Request = { index: log.length, op: fields.op ?? "", path, fields, content }
        const authorization = request.headers["authorization"] ?? ""
        log.push({ ...req, authorization, bodyBuffer, bodyLength })
        server.inFlight++
        server.maxInFlight = Math.max(server.maxInFlight, server.inFlight)
        return yield* Effect.gen(function*() {
          const n = server.yields(req)
          for (let i = 0; i < n; i++) yield* Effect.yieldNow()
          const fault = server.fault(req)
          let answer: { status: number; body: unknown } | undefined
          if (fault !== undefined) {
            switch (fault._tag) {
              case "never":
                return yield* Effect.never
              case "delay":
                yield* Effect.sleep(fault.millis)
                break
              case "status":
                answer = { status: fault.status, body: fault.body ?? "<html>bad gateway</html>" }
                break
              case "code":
                answer = err(fault.reason)
                break
              case "stallBody":
                return HttpClientResponse.fromWeb(
                  request,
                  new Response(new ReadableStream({ start() {} }), { status: 200 })
                )
            }
          }
          if (answer === undefined && options.verifySignatures === true) {
            const verified = yield* Effect.either(Signature.verifyNow({
              sign: authorization,
              lookupKey: (k) => k === credentials.secretId ? Option.some(credentials.secretKey) : Option.none(),
              appId: config.appId,
              bucket: config.bucket,
              resourcePath: path,
              opKind: req.op === "delete" ? "single" : "multi"
            }))
            if (Either.isLeft(verified)) answer = err(verified.left.reason === "Expired" ? "AuthExpired" : "AuthFailed")
          }
          answer ??= handle(req)
          const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body)
          return HttpClientResponse.fromWeb(
            request,
            new Response(text, { status: answer.status, headers: { "content-type": "application/json" } })
          )
        }).pipe(Effect.ensuring(Effect.sync(() => server.inFlight--)))
      })
    )
  }
  return server
}
