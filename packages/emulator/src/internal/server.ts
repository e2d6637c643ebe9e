/**
 * The request hot path: node:http, a bounded body buffer, field extraction from the query string, multipart or
 * JSON bodies, then the op handler as an Effect run on a captured Runtime.
 *
 * @internal
 */
import * as CosPath from "@cos-v4/core/CosPath"
import * as Protocol from "@cos-v4/core/Protocol"
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Runtime from "effect/Runtime"
import * as crypto from "node:crypto"
import type * as http from "node:http"
import type * as stream from "node:stream"
import type { Config } from "./config.js"
import { errorReply, type Reply, type Request } from "./handlers.js"
import * as multipart from "./multipart.js"

/** @internal */
export type Handler = (r: Request) => Effect.Effect<Reply>

const corsHeaders = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "x-cos-request-id"
} as const

const send = (res: http.ServerResponse, reply: Reply, requestId: string, close = false) => {
  if (res.headersSent || res.destroyed) return
  const body = reply._tag === "Json" ? Buffer.from(JSON.stringify(reply.body)) : reply.body
  res.writeHead(reply.status, {
    ...corsHeaders,
    "content-type": reply._tag === "Json" ? "application/json" : "application/octet-stream",
    "content-length": body.length,
    "x-cos-request-id": requestId,
    ...(close ? { connection: "close" } : {})
  })
  res.end(body)
}

const decodeQueryComponent = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

/** Query pairs; `+` is kept literally (`decodeURIComponent` semantics, protocol.md §6.3). */
const queryPairs = (query: string): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  if (query === "") return out
  for (const pair of query.split("&")) {
    if (pair === "") continue
    const eq = pair.indexOf("=")
    const k = decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq))
    const v = decodeQueryComponent(eq < 0 ? "" : pair.slice(eq + 1))
    if (k !== undefined && v !== undefined) out.push([k, v])
  }
  return out
}

const jsonValue = (v: unknown): string | undefined =>
  v === null || v === undefined ? undefined : typeof v === "string" ? v : typeof v === "object"
    ? JSON.stringify(v)
    : String(v)

type Body =
  | { readonly _tag: "Ok"; readonly pairs: Array<[string, string]>; readonly payload: Buffer | undefined }
  | { readonly _tag: "Invalid"; readonly detail: string }

const parseBody = (body: Buffer, contentType: string): Body => {
  if (body.length === 0) return { _tag: "Ok", pairs: [], payload: undefined }
  const ct = contentType.toLowerCase()
  let kind: "multipart" | "json" | "form" | "other"
  if (ct.includes("multipart/")) kind = "multipart"
  else if (ct.includes("json")) kind = "json"
  else if (ct.includes("x-www-form-urlencoded")) kind = "form"
  else {
    // sniff: a JSON object, a multipart body (boundary from the first line), or nothing usable
    let i = 0
    while (i < body.length && (body[i] === 0x20 || body[i] === 0x0d || body[i] === 0x0a || body[i] === 0x09)) i++
    kind = body[i] === 0x7b ? "json" : body[i] === 0x2d && body[i + 1] === 0x2d ? "multipart" : "other"
  }
  if (kind === "multipart") {
    const boundary = multipart.boundaryOf(contentType) ?? multipart.sniffBoundary(body)
    if (boundary === undefined) return { _tag: "Invalid", detail: "multipart body without a boundary" }
    const parsed = multipart.parse(body, boundary)
    if (parsed._tag === "Invalid") return parsed
    const pairs: Array<[string, string]> = []
    let payload: Buffer | undefined
    for (const part of parsed.parts) {
      if (part.name.toLowerCase() === "filecontent") {
        if (payload === undefined) payload = part.data
      } else {
        pairs.push([part.name, part.data.toString("utf8")])
      }
    }
    return { _tag: "Ok", pairs, payload }
  }
  if (kind === "json") {
    let value: unknown
    try {
      value = JSON.parse(body.toString("utf8"))
    } catch {
      return { _tag: "Invalid", detail: "the JSON body does not parse" }
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { _tag: "Invalid", detail: "the JSON body is not an object" }
    }
    const pairs: Array<[string, string]> = []
    for (const [k, v] of Object.entries(value)) {
      const s = jsonValue(v)
      if (s !== undefined) pairs.push([k, s])
    }
    return { _tag: "Ok", pairs, payload: undefined }
  }
  if (kind === "form") {
    return { _tag: "Ok", pairs: [...new URLSearchParams(body.toString("utf8"))], payload: undefined }
  }
  return { _tag: "Ok", pairs: [], payload: undefined }
}

/** Splits `req.url`, accepting the absolute form of proxied requests (`POST http://host/files/v2/...`). */
const splitUrl = (raw: string): { pathname: string; query: string } => {
  let rest = raw
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rest)
  if (m !== null) rest = rest.slice(m[0].length) || "/"
  const hash = rest.indexOf("#")
  if (hash >= 0) rest = rest.slice(0, hash)
  const q = rest.indexOf("?")
  return q < 0 ? { pathname: rest, query: "" } : { pathname: rest.slice(0, q), query: rest.slice(q + 1) }
}

/**
 * Request bodies are read into pooled buffers, so that slices do not allocate: a new 1 MiB buffer per slice is
 * external memory that makes V8 run full collections over the whole (Effect-sized) heap. Sizes are rounded up to
 * 64 KiB (a 1 MiB slice with its multipart framing takes 1 MiB + 64 KiB), and at most 24 MiB stay pooled.
 */
const pool = new Map<number, Array<Buffer>>()
const granule = 64 << 10
const maxPooledBytes = 24 << 20
let pooledBytes = 0
const acquire = (length: number): Buffer => {
  if (length > 8 << 20) return Buffer.allocUnsafeSlow(length)
  const size = Math.max(granule, Math.ceil(length / granule) * granule)
  const free = pool.get(size)
  const reused = free?.pop()
  if (reused === undefined) return Buffer.allocUnsafeSlow(size)
  pooledBytes -= size
  return reused
}
const release = (buffer: Buffer): void => {
  const size = buffer.length
  if (size > 8 << 20 || size % granule !== 0 || pooledBytes + size > maxPooledBytes) return
  let free = pool.get(size)
  if (free === undefined) {
    free = []
    pool.set(size, free)
  }
  free.push(buffer)
  pooledBytes += size
}

/** Request ids: a random per-process prefix and a counter (unique, and no random bytes per request). */
const requestIdPrefix = crypto.randomBytes(9).toString("base64url")
let requestCounter = 0
const newRequestId = () => `${requestIdPrefix}${(requestCounter++).toString(36).padStart(6, "0")}`

/** @internal */
export const makeListener = (cfg: Config, handler: Handler, runtime: Runtime.Runtime<never>) => {
  const runCallback = Runtime.runCallback(runtime)

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const requestId = newRequestId()
    const method = req.method ?? "GET"
    if (method === "OPTIONS") {
      req.resume()
      res.writeHead(204, {
        ...corsHeaders,
        "access-control-allow-methods": "GET, POST, PUT, DELETE, HEAD, OPTIONS",
        "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
        "access-control-max-age": "86400",
        "content-type": "application/json",
        "content-length": 0
      })
      res.end()
      return
    }
    const fail = (reason: Parameters<typeof errorReply>[0], detail: string, status?: number, close = false) => {
      send(res, errorReply(reason, detail, requestId, status), requestId, close)
      if (close) {
        res.once("finish", () => req.destroy())
      }
    }
    const { pathname, query } = splitUrl(req.url ?? "/")
    const location = CosPath.parseRequestPath(pathname)
    if (Either.isLeft(location)) {
      req.resume()
      return fail("InvalidPath", `${location.left.reason}${location.left.detail ? `: ${location.left.detail}` : ""}`)
    }
    const declared = req.headers["content-length"]
    const length = declared === undefined ? undefined : Number(declared)
    if (length !== undefined && (!Number.isSafeInteger(length) || length > cfg.maxBodyBytes)) {
      return fail("TooLarge", `the body may be at most ${cfg.maxBodyBytes} bytes`, undefined, true)
    }
    let buffer: Buffer | undefined = length !== undefined && length > 0 ? acquire(length) : undefined
    const chunks: Array<Buffer> = []
    let received = 0
    let done = false
    req.setTimeout(cfg.idleTimeoutMs, () => {
      if (done) return
      done = true
      fail("RequestTimeout", "the request body arrived too slowly", undefined, true)
    })
    req.on("data", (chunk: Buffer) => {
      if (done) return
      if (received + chunk.length > (length ?? cfg.maxBodyBytes)) {
        done = true
        return fail("TooLarge", `the body may be at most ${length ?? cfg.maxBodyBytes} bytes`, undefined, true)
      }
      if (buffer !== undefined) chunk.copy(buffer, received)
      else chunks.push(chunk)
      received += chunk.length
    })
    req.on("error", () => {
      done = true
    })
    req.on("end", () => {
      if (done) return
      done = true
      req.setTimeout(0)
      const pooled = buffer
      const body = buffer !== undefined ? buffer.subarray(0, received) : Buffer.concat(chunks, received)
      buffer = undefined
      const parsed = parseBody(body, req.headers["content-type"] ?? "")
      if (parsed._tag === "Invalid") {
        if (pooled !== undefined) release(pooled)
        return fail("InvalidParameter", parsed.detail)
      }
      // the pooled body goes back to the pool once the handler is done and nobody retains it any more
      let holds = 1
      const drop = () => {
        if (--holds === 0 && pooled !== undefined) release(pooled)
      }
      const retain = () => {
        holds++
        let dropped = false
        return () => {
          if (dropped) return
          dropped = true
          drop()
        }
      }
      const after: Array<() => void> = []
      // body fields first, then the query string; case-insensitive names, the first occurrence wins
      const pairs = parsed.pairs
      let sign: string | undefined
      for (const [k, v] of queryPairs(query)) {
        if (k === "sign") {
          // a raw `+` arrives as-is; a space can only be a `+` of a form-encoded signature
          if (sign === undefined) sign = v.replace(/ /g, "+")
        } else pairs.push([k, v])
      }
      const auth = req.headers["authorization"]
      if (typeof auth === "string" && auth !== "") sign = auth.trim()
      const request: Request = {
        requestId,
        method,
        appId: location.right.appId,
        bucket: location.right.bucket,
        path: location.right.path,
        fields: Protocol.normalizeFields(pairs),
        payload: parsed.payload,
        sign,
        host: req.headers["host"] ?? `${cfg.host}:${cfg.port}`,
        after,
        retain
      }
      runCallback(handler(request), {
        onExit: (exit) => {
          if (Exit.isSuccess(exit)) send(res, exit.value, requestId)
          else send(res, errorReply("InternalError", "internal error", requestId), requestId)
          for (const f of after) f()
          // the handler is done with the body (slices are written before the reply)
          drop()
        }
      })
    })
  }

  const onCheckContinue = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const declared = req.headers["content-length"]
    if (declared !== undefined && Number(declared) > cfg.maxBodyBytes) {
      // refuse before the client sends the body
      const requestId = newRequestId()
      send(res, errorReply("TooLarge", `the body may be at most ${cfg.maxBodyBytes} bytes`, requestId), requestId, true)
      return
    }
    res.writeContinue()
    onRequest(req, res)
  }

  /** Malformed requests and oversized headers still get a JSON envelope (node would answer a bare 400/431). */
  const onClientError = (err: Error & { code?: string }, socket: stream.Duplex) => {
    if (!socket.writable || err.code === "ECONNRESET") {
      socket.destroy()
      return
    }
    const requestId = newRequestId()
    const overflow = err.code === "HPE_HEADER_OVERFLOW"
    const timeout = err.code === "ERR_HTTP_REQUEST_TIMEOUT"
    const reply = overflow
      ? errorReply("TooLarge", "request headers too large", requestId, 431)
      : timeout
      ? errorReply("RequestTimeout", "the request took too long", requestId)
      : errorReply("InvalidParameter", "malformed HTTP request", requestId, 400)
    const body = JSON.stringify(reply.body)
    const reason = overflow ? "Request Header Fields Too Large" : timeout ? "Request Timeout" : "Bad Request"
    socket.end(
      `HTTP/1.1 ${reply.status} ${reason}\r\nContent-Type: application/json\r\n` +
        `Access-Control-Allow-Origin: *\r\nContent-Length: ${
          Buffer.byteLength(body)
        }\r\nConnection: close\r\n\r\n${body}`
    )
  }

  return { onRequest, onCheckContinue, onClientError }
}
