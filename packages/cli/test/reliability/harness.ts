// Process-level harness of the reliability suite (issue 7): real emulator processes, real `cos` processes,
// raw HTTP, and read-only checks of the emulator's data directory.
import * as CosPath from "@cos-v4/core/CosPath"
import * as Signature from "@cos-v4/core/Signature"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { type ChildProcess, spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"

export const repo = path.resolve(import.meta.dirname, "../../../..")
// `node --import tsx/loader` runs the TypeScript entry points in ONE process: a SIGKILL must hit the process that
// does the work (the `tsx` binary would spawn a child that survives its parent's SIGKILL)
const loader = pathToFileURL(path.join(repo, "node_modules/tsx/dist/loader.mjs")).href
const node = (args: ReadonlyArray<string>) => ["--import", loader, ...args]
const emulatorBin = path.join(repo, "packages/emulator/src/bin.ts")
const cosBin = path.join(repo, "packages/cli/src/bin.ts")

/** `COS_RELIABILITY_FULL=1` runs the full counts; the default is the reduced CI count. */
export const full = process.env.COS_RELIABILITY_FULL === "1"
export const count = (ci: number, fullCount: number): number => (full ? fullCount : ci)

export const appId = "1250000000"
export const bucket = "bkt"
export const secretId = "AKIDrel"
export const secretKey = "reliability-key"

export const MiB = 1024 * 1024

export const credentials: Signature.Credentials = { appId, secretId, secretKey: Redacted.make(secretKey) }

/** A multi-effect signature valid for `lifetime` seconds from `now` (default: the real clock). */
export const multiSign = (
  options: { readonly now?: number; readonly lifetime?: number; readonly bucket?: string; readonly key?: string } = {}
): string => {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  return Redacted.value(Signature.signMulti({
    credentials: options.key === undefined
      ? credentials
      : { ...credentials, secretKey: Redacted.make(options.key) },
    bucket: options.bucket ?? bucket,
    now,
    expiresAt: now + (options.lifetime ?? 600),
    rand: Math.floor(Math.random() * 1e9)
  }))
}

export const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `cos-rel-${prefix}-`))

/** A deterministic xorshift PRNG: the process-level tests are reproducible from their seed. */
export const prng = (seed: number) => {
  let x = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995) | 0 || 1
  const next = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
  for (let i = 0; i < 32; i++) next() // small seeds start poorly mixed
  return (n: number): number => next() % n
}

export const writeRandom = (file: string, size: number): string => {
  const data = crypto.randomBytes(size)
  fs.writeFileSync(file, data)
  return sha1(data)
}

export const sha1 = (data: Uint8Array) => crypto.createHash("sha1").update(data).digest("hex")

const cleanEnv = (extra: Record<string, string>) => {
  const e: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("COS_")) e[k] = v
  return { ...e, ...extra }
}

export interface Emulator {
  readonly url: string
  readonly port: number
  readonly child: ChildProcess
  readonly stderr: () => string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Graceful stop (SIGTERM), resolves when the process ended. */
  readonly stop: () => Promise<void>
  readonly kill: () => Promise<void>
}

/** Starts `cos-emulator` (a real process) and resolves once it printed its ready line. */
export const startEmulator = (
  dataDir: string,
  options: { readonly port?: number; readonly auth?: "off" | "lenient" | "strict"; readonly args?: Array<string> } = {}
): Promise<Emulator> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      node([
        emulatorBin,
        "--port",
        String(options.port ?? 0),
        "--data-dir",
        dataDir,
        "--bucket",
        bucket,
        "--appid",
        appId,
        "--auth",
        options.auth ?? "strict",
        "--credential",
        `${secretId}:${secretKey}`,
        ...(options.args ?? [])
      ]),
      { env: cleanEnv({}), stdio: ["ignore", "pipe", "pipe"] }
    )
    let out = ""
    let err = ""
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on("exit", (code, signal) => res({ code, signal }))
    )
    child.stderr!.on("data", (d) => (err += d))
    child.stdout!.on("data", (d) => {
      out += d
      const m = /^listening on (http:\/\/[^\s]+)\n/.exec(out)
      if (m !== null) {
        const url = m[1]!
        resolve({
          url,
          port: Number(new URL(url).port),
          child,
          stderr: () => err,
          exited,
          stop: () => {
            child.kill("SIGTERM")
            return exited.then(() => undefined)
          },
          kill: () => {
            child.kill("SIGKILL")
            return exited.then(() => undefined)
          }
        })
      }
    })
    void exited.then(({ code, signal }) => reject(new Error(`emulator exited ${code} ${signal}: ${err}`)))
  })

export const cosEnv = (cacheDir: string) => ({
  COS_APPID: appId,
  COS_BUCKET: bucket,
  COS_SECRET_ID: secretId,
  COS_SECRET_KEY: secretKey,
  XDG_CACHE_HOME: cacheDir
})

export interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export const startCos = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string>) =>
  spawn(process.execPath, node([cosBin, ...args]), { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] })

export const collect = (child: ChildProcess): Promise<Run> =>
  new Promise((resolve) => {
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

export interface Answer {
  readonly status: number
  readonly text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any
}

/** One HTTP request (keep-alive off). */
export const request = (
  port: number,
  options: {
    readonly method?: string
    readonly path: string
    readonly headers?: Record<string, string | number>
    readonly body?: Buffer | string
  }
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path,
        headers: options.headers,
        agent: false
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, text, json })
        })
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(options.body)
  })

export const v4Path = (cosPath: string) =>
  `/files/v2/${appId}/${bucket}${cosPath.split("/").map(encodeURIComponent).join("/")}`

/** `upload_slice_list` on an emulator without auth: the acknowledged bytes of the unfinished upload of `cosPath`. */
export const listedBytes = async (port: number, cosPath: string): Promise<number | undefined> => {
  const a = await request(port, {
    path: `${v4Path(cosPath)}?op=upload_slice_list`,
    headers: { authorization: multiSign() }
  })
  if (a.json?.code !== 0 || a.json.data?.session === undefined) return undefined
  const parts: Array<{ datalen: number }> = a.json.data.listparts ?? []
  return parts.reduce((n, p) => n + p.datalen, 0)
}

// better-sqlite3 is the emulator's driver (through @effect/sql-sqlite-node); opened read-only here
const sqliteRequire = createRequire(
  createRequire(path.join(repo, "packages/emulator/package.json")).resolve("@effect/sql-sqlite-node/package.json")
)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Database = sqliteRequire("better-sqlite3") as any

export interface DbState {
  readonly integrity: string
  readonly objects: Array<{ path: string; blob: string | null; size: number; sha: string | null; kind: string }>
  readonly sessions: Array<{ id: string; path: string }>
}

export const readDb = (dataDir: string): DbState => {
  const db = new Database(path.join(dataDir, "meta.sqlite"), { readonly: true, fileMustExist: true })
  try {
    const integrity = db.prepare("PRAGMA integrity_check").pluck().all().join(",")
    const objects = db.prepare("SELECT path, blob, size, sha, kind FROM objects").all()
    const sessions = db.prepare("SELECT id, path FROM sessions").all()
    return { integrity, objects, sessions }
  } finally {
    db.close()
  }
}

const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : [])

/**
 * Orphans: blob files the database does not reference, and references to missing blob files.
 */
export const orphans = (dataDir: string, db: DbState) => {
  const blobs = new Set(db.objects.flatMap((o) => (o.blob === null ? [] : [o.blob])))
  const sessions = new Set(db.sessions.map((s) => s.id))
  const objectFiles = files(path.join(dataDir, "objects"))
  const sessionFiles = files(path.join(dataDir, "sessions"))
  return {
    unreferencedObjects: objectFiles.filter((f) => !blobs.has(f)),
    missingObjects: Array.from(blobs).filter((b) => !objectFiles.includes(b)),
    unreferencedSessions: sessionFiles.filter((f) => !sessions.has(f)),
    missingSessions: Array.from(sessions).filter((s) => !sessionFiles.includes(s))
  }
}

/** The stored bytes of a file, read from the data directory (the object's blob). */
export const storedSha = (dataDir: string, db: DbState, cosPath: string): string | undefined => {
  const o = db.objects.find((x) => x.path === cosPath)
  if (o?.blob === undefined || o.blob === null) return undefined
  return sha1(fs.readFileSync(path.join(dataDir, "objects", o.blob)))
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A TCP proxy to `port` that limits client→server bandwidth to `bytesPerSecond` (shared by all connections), so a
 * local upload lasts long enough to be interrupted at a chosen point.
 */
export const throttle = (port: number, bytesPerSecond: number): Promise<{ port: number; close: () => void }> =>
  new Promise((resolve) => {
    const sockets = new Set<net.Socket>()
    let nextFree = Date.now()
    const server = net.createServer((client) => {
      const upstream = net.connect(port, "127.0.0.1")
      sockets.add(client)
      sockets.add(upstream)
      client.on("data", (chunk: Buffer) => {
        upstream.write(chunk)
        const now = Date.now()
        nextFree = Math.max(nextFree, now) + (chunk.length / bytesPerSecond) * 1000
        const wait = nextFree - now
        if (wait > 1) {
          client.pause()
          setTimeout(() => client.resume(), wait)
        }
      })
      upstream.pipe(client)
      const end = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on("error", end).on("close", end)
      upstream.on("error", end).on("close", end)
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo
      resolve({
        port: address.port,
        close: () => {
          for (const s of sockets) s.destroy()
          server.close()
        }
      })
    })
  })

/** A single-effect signature bound to one file (delete/update/move). */
export const onceSign = (cosPath: string): string => {
  const parsed = CosPath.parseFile(cosPath)
  if (Either.isLeft(parsed)) throw new Error(`bad path ${cosPath}`)
  return Redacted.value(Signature.signOnce({
    credentials,
    bucket,
    fileId: CosPath.fileId(appId, bucket, parsed.right),
    now: Math.floor(Date.now() / 1000),
    rand: Math.floor(Math.random() * 1e9)
  }))
}

/** A multipart/form-data body: fields first, then `filecontent` when given. */
export const multipart = (
  fields: ReadonlyArray<readonly [string, string]>,
  content?: Uint8Array,
  boundary = "----cosrel" + Math.floor(Math.random() * 1e9)
): { readonly body: Buffer; readonly contentType: string } => {
  const parts: Array<Buffer> = []
  for (const [k, v] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  }
  if (content !== undefined) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="filecontent"; filename="blob"\r\n` +
          `Content-Type: application/octet-stream\r\n\r\n`
      ),
      Buffer.from(content),
      Buffer.from("\r\n")
    )
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` }
}

export interface RawAnswer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any
}

/**
 * Sends exact bytes over a fresh socket (chunks separated by `pauseMs`), half-closes nothing, and resolves with
 * the parsed answer once the server closed the connection (or `undefined` when it answered nothing).
 */
export const raw = (
  port: number,
  chunks: ReadonlyArray<Buffer>,
  options: { readonly pauseMs?: number; readonly timeoutMs?: number } = {}
): Promise<RawAnswer | undefined> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    const received: Array<Buffer> = []
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(parseRaw(Buffer.concat(received)))
    }
    const timer = setTimeout(finish, options.timeoutMs ?? 10_000)
    socket.on("data", (d: Buffer) => {
      received.push(d)
      const answer = parseRaw(Buffer.concat(received))
      if (answer !== undefined) finish()
    })
    socket.on("error", finish)
    socket.on("close", finish)
    socket.on("connect", async () => {
      for (const chunk of chunks) {
        if (settled || socket.destroyed) return
        socket.write(chunk)
        if (options.pauseMs !== undefined) await sleep(options.pauseMs)
      }
    })
  })

const parseRaw = (raw: Buffer): RawAnswer | undefined => {
  let at = 0
  for (;;) {
    const end = raw.indexOf("\r\n\r\n", at)
    if (end < 0) return undefined
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
    const len = Number(headers["content-length"] ?? -1)
    if (len < 0 || raw.length < end + 4 + len) return undefined
    const body = raw.toString("utf8", end + 4, end + 4 + len)
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      json = undefined
    }
    return { status, headers, body, json }
  }
}

/**
 * Everything stored outside `exclude` (a path prefix), as one digest: the database's objects, sessions and slices,
 * and the bytes of their blob files.
 */
export const snapshot = (dataDir: string, exclude = "\u0000"): string => {
  const db = new Database(path.join(dataDir, "meta.sqlite"), { readonly: true, fileMustExist: true })
  const h = crypto.createHash("sha1")
  try {
    const objects = db.prepare(
      "SELECT bucket, path, kind, blob, size, sha, biz_attr, authority, custom_headers FROM objects ORDER BY bucket, path"
    ).all().filter((o: { path: string }) => !o.path.startsWith(exclude))
    const sessions = db.prepare("SELECT id, bucket, path, filesize, slice_size, sha FROM sessions ORDER BY id").all()
      .filter((s: { path: string }) => !s.path.startsWith(exclude))
    const ids = new Set(sessions.map((s: { id: string }) => s.id))
    const slices = db.prepare("SELECT session, offset, datalen FROM slices ORDER BY session, offset").all()
      .filter((s: { session: string }) => ids.has(s.session))
    h.update(JSON.stringify([objects, sessions, slices]))
    for (const o of objects) {
      if (o.blob !== null) h.update(fs.readFileSync(path.join(dataDir, "objects", o.blob)))
    }
    for (const s of sessions) h.update(fs.readFileSync(path.join(dataDir, "sessions", s.id)))
  } finally {
    db.close()
  }
  return h.digest("hex")
}

/** Resident set size of a process, in bytes (Linux /proc). */
export const rss = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
  return m === null ? 0 : Number(m[1]) * 1024
}

/**
 * Prints a test's figures (and appends them to `$COS_RELIABILITY_REPORT` when set): docs/reliability.md quotes them.
 */
export const report = (line: string): void => {
  process.stdout.write(`${line}\n`)
  const file = process.env.COS_RELIABILITY_REPORT
  if (file !== undefined && file !== "") fs.appendFileSync(file, `${line}\n`)
}

/** The session of the unfinished upload of `cosPath`, if any. */
export const listedSession = async (port: number, cosPath: string): Promise<string | undefined> => {
  const a = await request(port, {
    path: `${v4Path(cosPath)}?op=upload_slice_list`,
    headers: { authorization: multiSign() }
  })
  return a.json?.code === 0 && typeof a.json.data?.session === "string" ? a.json.data.session : undefined
}
