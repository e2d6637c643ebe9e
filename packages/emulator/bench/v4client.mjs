// A minimal hand-written COS v4 slice-upload client, in the style of ../../../../shared/bench-limits/pipeline.mjs:
// one process, the file read into a pool of c+1 reused slice buffers, the whole-file SHA-1 updated in order,
// every slice sent as a multipart POST built from head/slice/tail pieces (no concatenation), c slices in flight
// over a keep-alive node:http agent. It speaks the real protocol (../../../../shared/reference/protocol.md §2, §8):
// upload_slice_init → upload_slice_data (fields op/session/offset + the `filecontent` part) → upload_slice_finish
// with the sha, and upload_slice_list to resume. No signature: for an emulator started with `--auth off`.
// Only Node built-ins. Used by emulator.bench.mjs and resume.bench.mjs; as a program it uploads one file:
//
//   node packages/emulator/bench/v4client.mjs --port P --file F --cos-path /bench/x.bin [--resume] [--progress]
//        [--appid 1250000000] [--bucket bkt] [--concurrency 4] [--slice-mib 1]
//
// --progress prints `ack <offset> <datalen> <ms since start>` per acknowledged slice (and `first-new-ack <ms>` for
// the first one), then one JSON line with the result.
import crypto from "node:crypto"
import fsp from "node:fs/promises"
import http from "node:http"
import { fileURLToPath } from "node:url"

const HOST = "127.0.0.1"

/** Percent-encodes a cos path for the URL (each segment, keeping the slashes). */
const encodePath = (p) => p.split("/").map(encodeURIComponent).join("/")

export class V4Client {
  constructor({ port, appid = "1250000000", bucket = "bkt", concurrency = 4, sliceSize = 1048576 }) {
    this.port = port
    this.prefix = `/files/v2/${appid}/${bucket}`
    this.concurrency = concurrency
    this.sliceSize = sliceSize
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency })
    this.boundary = "----cosV4Bench" + crypto.randomBytes(8).toString("hex")
    this.pool = []
  }

  close() {
    this.agent.destroy()
  }

  field(name, value) {
    return `--${this.boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  }

  /** One request; resolves with the parsed JSON envelope (whatever its code). */
  send(method, cosPath, query, headers, pieces) {
    return new Promise((resolve, reject) => {
      const len = pieces.reduce((n, b) => n + b.length, 0)
      const req = http.request({
        host: HOST,
        port: this.port,
        method,
        path: `${this.prefix}${encodePath(cosPath)}${query}`,
        agent: this.agent,
        headers: { ...headers, "content-length": String(len) }
      }, (res) => {
        let s = ""
        res.setEncoding("utf8")
        res.on("data", (c) => {
          s += c
        })
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode, ...JSON.parse(s) })
          } catch {
            reject(new Error(`HTTP ${res.statusCode}: ${s.slice(0, 200)}`))
          }
        })
        res.on("error", reject)
      })
      req.on("error", reject)
      for (let k = 0; k < pieces.length - 1; k++) req.write(pieces[k])
      req.end(pieces[pieces.length - 1])
    })
  }

  /** A multipart POST of text fields, optionally followed by the `filecontent` part. */
  post(cosPath, fields, payload) {
    let head = ""
    for (const [k, v] of Object.entries(fields)) head += this.field(k, v)
    const ct = { "content-type": `multipart/form-data; boundary=${this.boundary}` }
    if (payload === undefined) {
      return this.send("POST", cosPath, "", ct, [Buffer.from(`${head}--${this.boundary}--\r\n`)])
    }
    head += `--${this.boundary}\r\nContent-Disposition: form-data; name="filecontent"; filename="blob"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n"
    return this.send("POST", cosPath, "", ct, [
      Buffer.from(head, "latin1"),
      payload,
      Buffer.from(`\r\n--${this.boundary}--\r\n`, "latin1")
    ])
  }

  stat(cosPath) {
    return this.send("GET", cosPath, "?op=stat", {}, [Buffer.alloc(0)])
  }

  remove(cosPath) {
    return this.send("POST", cosPath, "", { "content-type": "application/json" }, [
      Buffer.from(JSON.stringify({ op: "delete" }))
    ])
  }

  /** upload_slice_init; with `sha` this may be answered as an instant upload (access info, no session). */
  init(cosPath, filesize, sha) {
    const fields = { op: "upload_slice_init", filesize, slice_size: this.sliceSize, insertOnly: 0 }
    if (sha !== undefined) fields.sha = sha
    return this.post(cosPath, fields)
  }

  /**
   * Uploads `file` (its first `size` bytes) to `cosPath`. With `resume`, first asks upload_slice_list for an
   * unfinished session and only sends the slices it does not list (the skipped ones are still read and hashed, in
   * order, for the whole-file SHA-1). `onAck(offset, datalen)` is called per acknowledged slice. Returns the
   * client's SHA-1 and hrtime marks (ns): start, initDone (session known), lastAck, finished.
   */
  async upload(file, cosPath, size, { resume = false, onAck } = {}) {
    const t = { start: process.hrtime.bigint() }
    let session
    let sliceSize = this.sliceSize
    const done = new Set()
    if (resume) {
      const l = await this.post(cosPath, { op: "upload_slice_list" })
      if (l.code === 0 && l.data?.session !== undefined) {
        if (l.data.filesize !== size) throw new Error(`listed filesize ${l.data.filesize}, expected ${size}`)
        session = l.data.session
        sliceSize = l.data.slice_size
        for (const p of l.data.listparts ?? []) done.add(p.offset)
      }
    }
    if (session === undefined) {
      const r = await this.init(cosPath, size)
      if (r.code !== 0) throw new Error(`init: ${JSON.stringify(r)}`)
      session = r.data.session
      sliceSize = r.data.slice_size
    }
    t.initDone = process.hrtime.bigint()
    if (this.pool.length !== this.concurrency + 1 || this.pool[0].length !== sliceSize) {
      this.pool = Array.from({ length: this.concurrency + 1 }, () => Buffer.allocUnsafe(sliceSize))
    }
    const free = this.pool.slice()
    const waiters = []
    const acquire = () => (free.length ? Promise.resolve(free.pop()) : new Promise((r) => waiters.push(r)))
    const release = (b) => {
      const w = waiters.shift()
      if (w) w(b)
      else free.push(b)
    }
    const hash = crypto.createHash("sha1")
    const fh = await fsp.open(file, "r")
    const inflight = new Set()
    let failed = null
    let sent = 0
    try {
      const n = Math.ceil(size / sliceSize)
      for (let i = 0; i < n && !failed; i++) {
        const off = i * sliceSize
        const len = Math.min(sliceSize, size - off)
        const buf = await acquire()
        let got = 0
        while (got < len) {
          const { bytesRead } = await fh.read(buf, got, len - got, off + got)
          if (!bytesRead) throw new Error("short read")
          got += bytesRead
        }
        const data = buf.subarray(0, len)
        hash.update(data)
        if (done.has(off)) {
          release(buf)
          continue
        }
        sent++
        const p = this.post(cosPath, { op: "upload_slice_data", session, offset: off }, data).then((r) => {
          if (r.code !== 0) throw new Error(`slice ${off}: ${JSON.stringify(r)}`)
          onAck?.(off, len)
        }).then(
          () => {
            inflight.delete(p)
            release(buf)
          },
          (e) => {
            failed = e
            inflight.delete(p)
            release(buf)
          }
        )
        inflight.add(p)
      }
      await Promise.all(inflight)
    } finally {
      await fh.close()
    }
    if (failed) throw failed
    t.lastAck = process.hrtime.bigint()
    const sha = hash.digest("hex")
    const fin = await this.post(cosPath, { op: "upload_slice_finish", session, filesize: size, sha })
    if (fin.code !== 0) throw new Error(`finish: ${JSON.stringify(fin)}`)
    t.finished = process.hrtime.bigint()
    return { sha, session, sent, skipped: done.size, t }
  }
}

/** Whole-file SHA-1 of the first `size` bytes of `file` (1 MiB reads, one reused buffer). */
export async function sha1File(file, size) {
  const h = crypto.createHash("sha1")
  const buf = Buffer.allocUnsafe(1048576)
  const fh = await fsp.open(file, "r")
  try {
    for (let off = 0; off < size;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - off), off)
      if (!bytesRead) throw new Error("short read")
      h.update(buf.subarray(0, bytesRead))
      off += bytesRead
    }
  } finally {
    await fh.close()
  }
  return h.digest("hex")
}

/** Creates (or keeps, when it already has this size) a file of `size` pseudo-random bytes. */
export async function ensureFile(file, size) {
  const st = await fsp.stat(file).catch(() => undefined)
  if (st !== undefined && st.size === size) return false
  const block = crypto.randomBytes(4 * 1048576)
  const fh = await fsp.open(file, "w")
  try {
    for (let off = 0; off < size; off += block.length) {
      block.writeUInt32LE(off >>> 0, 0)
      await fh.write(block, 0, Math.min(block.length, size - off), off)
    }
  } finally {
    await fh.close()
  }
  return true
}

// ---- as a program: one upload (used as the killable child of resume.bench.mjs) ----
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
  const file = opt("file")
  const cosPath = opt("cos-path")
  const progress = args.includes("--progress")
  const client = new V4Client({
    port: Number(opt("port")),
    appid: opt("appid", "1250000000"),
    bucket: opt("bucket", "bkt"),
    concurrency: Number(opt("concurrency", 4)),
    sliceSize: Number(opt("slice-mib", 1)) * 1048576
  })
  const size = (await fsp.stat(file)).size
  const t0 = process.hrtime.bigint()
  const ms = () => (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)
  let first = true
  const r = await client.upload(file, cosPath, size, {
    resume: args.includes("--resume"),
    onAck: progress
      ? (off, len) => {
        if (first) process.stdout.write(`first-new-ack ${ms()}\n`)
        first = false
        process.stdout.write(`ack ${off} ${len} ${ms()}\n`)
      }
      : undefined
  })
  client.close()
  const rel = (x) => Number(x - r.t.start) / 1e6
  process.stdout.write(
    JSON.stringify({
      sha: r.sha,
      sent: r.sent,
      skipped: r.skipped,
      initMs: rel(r.t.initDone),
      lastAckMs: rel(r.t.lastAck),
      totalMs: rel(r.t.finished)
    }) + "\n"
  )
}
