import * as Signature from "@cos-v4/core/Signature"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as net from "node:net"

export const appId = "1250000000"
export const bucket = "bkt"
export const secretId = "AKIDtest"
export const secretKey = "testkey"
export const credentials: Signature.Credentials = { appId, secretId, secretKey: Redacted.make(secretKey) }

export interface Answer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any
}

const toAnswer = (status: number, headers: http.IncomingHttpHeaders, body: Buffer): Answer => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let json: any
  try {
    json = JSON.parse(body.toString("utf8"))
  } catch {
    json = undefined
  }
  return { status, headers, body, json }
}

/** One request over node:http (keep-alive off). */
export const request = (
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string | number>; body?: Buffer | string }
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path,
        headers: options.headers,
        agent: false
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve(toAnswer(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))))
      }
    )
    req.on("error", reject)
    req.end(options.body)
  })

/** Parses a raw HTTP/1.1 response (Content-Length bodies; skips 1xx interim answers). */
const parseRaw = (raw: Buffer): Answer => {
  let at = 0
  for (;;) {
    const end = raw.indexOf("\r\n\r\n", at)
    const head = raw.toString("latin1", at, end).split("\r\n")
    const status = Number(head[0]!.split(" ")[1])
    const headers: Record<string, string> = {}
    for (const l of head.slice(1)) {
      const i = l.indexOf(":")
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
    }
    if (status >= 100 && status < 200) {
      at = end + 4
      continue
    }
    const len = Number(headers["content-length"] ?? raw.length - end - 4)
    return toAnswer(status, headers, raw.subarray(end + 4, end + 4 + len))
  }
}

/**
 * Sends exact bytes over a socket. With `expectContinue`, the body is sent only after the server's
 * `100 Continue` (which is recorded in `sawContinue`).
 */
export const raw = (
  port: number,
  head: string,
  body: Buffer = Buffer.alloc(0),
  expectContinue = false
): Promise<Answer & { sawContinue: boolean }> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    let sawContinue = false
    let sent = !expectContinue
    socket.on("connect", () => {
      socket.write(head)
      if (!expectContinue) socket.write(body)
    })
    socket.on("data", (c: Buffer) => {
      chunks.push(c)
      if (!sent && Buffer.concat(chunks).toString("latin1").startsWith("HTTP/1.1 100")) {
        sawContinue = true
        sent = true
        socket.write(body)
      }
    })
    socket.on("error", reject)
    socket.on("end", () => resolve({ ...parseRaw(Buffer.concat(chunks)), sawContinue }))
  })

export interface PartSpec {
  readonly name: string
  readonly value: string | Buffer
  readonly filename?: string
  readonly contentType?: string
}

/** Builds a multipart body exactly as specified. */
export const multipart = (
  parts: ReadonlyArray<PartSpec>,
  options: { boundary?: string; preamble?: string } = {}
): { body: Buffer; contentType: string } => {
  const boundary = options.boundary ?? `----b${crypto.randomBytes(8).toString("hex")}`
  const pieces: Array<Buffer> = [Buffer.from(options.preamble ?? "")]
  for (const p of parts) {
    if (p.value === undefined) {
      throw new Error(
        `multipart: part ${p.name} has no value in ${
          JSON.stringify(parts.map((x) => [x.name, String(x.value).slice(0, 30)]))
        }`
      )
    }
    let h = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`
    if (p.filename !== undefined) h += `; filename="${p.filename}"`
    h += "\r\n"
    if (p.contentType !== undefined) h += `Content-Type: ${p.contentType}\r\n`
    h += "\r\n"
    pieces.push(Buffer.from(h), typeof p.value === "string" ? Buffer.from(p.value) : p.value, Buffer.from("\r\n"))
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}` }
}

export const postMultipart = (
  port: number,
  path: string,
  parts: ReadonlyArray<PartSpec>,
  options: { headers?: Record<string, string>; boundary?: string; preamble?: string } = {}
): Promise<Answer> => {
  const mp = multipart(parts, options)
  return request(port, {
    path,
    headers: { "content-type": mp.contentType, "content-length": mp.body.length, ...options.headers },
    body: mp.body
  })
}

export const postJson = (port: number, path: string, value: unknown, headers: Record<string, string> = {}) => {
  const body = Buffer.from(JSON.stringify(value))
  return request(port, {
    path,
    headers: { "content-type": "application/json", "content-length": body.length, ...headers },
    body
  })
}

export const get = (port: number, path: string, headers: Record<string, string> = {}) =>
  request(port, { method: "GET", path, headers })

/** The file of protocol.md §3.4: byte i = i mod 251. */
export const patternFile = (size: number): Buffer => {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = i % 251
  return b
}

export const sha1 = (b: Uint8Array) => crypto.createHash("sha1").update(b).digest("hex")
export const md5 = (b: Uint8Array) => crypto.createHash("md5").update(b).digest("hex")

export const url = (path: string) => `/files/v2/${appId}/${bucket}${path}`

export const nowSeconds = () => Math.floor(Date.now() / 1000)

export const signMulti = (fileId = "", lifetime = 300) =>
  Redacted.value(Signature.signMulti({
    credentials,
    bucket,
    expiresAt: nowSeconds() + lifetime,
    now: nowSeconds(),
    rand: crypto.randomInt(0, 1_000_000_000),
    fileId
  }))

export const signOnce = (fileId: string) =>
  Redacted.value(Signature.signOnce({
    credentials,
    bucket,
    fileId,
    now: nowSeconds(),
    rand: crypto.randomInt(0, 1_000_000_000)
  }))
