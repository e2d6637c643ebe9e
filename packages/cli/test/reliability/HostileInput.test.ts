// Issue 7 item 4: generated malformed or hostile requests over raw sockets to a real emulator process.
// CI: 200 requests; COS_RELIABILITY_FULL=1: 1000 (docs/reliability.md). Slow bodies run against an in-process
// emulator with a short idle timeout (the options of Emulator.layer).
import * as Emulator from "@cos-v4/emulator/Emulator"
import * as EmulatorStorage from "@cos-v4/emulator/EmulatorStorage"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as H from "./harness.js"

const N = H.count(200, 1000)
// Kinds the emulator may accept by design (into /hostile/, outside the stored data compared): a multipart body
// that is itself well formed is parsed with the boundary sniffed from it when the header's is missing or wrong.
// (E1, an unbounded biz_attr, was fixed at 13:12: the emulator now refuses more than 4096 bytes with -4013.)
const tolerated = new Set(["bad boundary", "double-encoded dots"])
const base = `/files/v2/${H.appId}/${H.bucket}`

interface Hostile {
  readonly kind: string
  readonly chunks: ReadonlyArray<Buffer>
  /** the codes this request may get (any specific error code when absent) */
  readonly expect?: ReadonlyArray<number>
  /** when the request may be accepted: the path and the sha its stored content must then have */
  readonly ifAccepted?: { readonly path: string; readonly sha: string }
}

const http = (
  method: string,
  target: string,
  headers: Record<string, string | number>,
  body: Buffer = Buffer.alloc(0),
  contentLength: number | string | undefined = body.length
): Buffer => {
  const lines = [`${method} ${target} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"]
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  if (contentLength !== undefined) lines.push(`Content-Length: ${contentLength}`)
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), body])
}

const post = (
  target: string,
  fields: ReadonlyArray<readonly [string, string]>,
  content?: Uint8Array,
  sign = H.multiSign()
) => {
  const m = H.multipart(fields, content)
  return http("POST", target, { "Content-Type": m.contentType, Authorization: sign }, m.body)
}

// traversal and malformed paths, in every encoding we could think of
const traversals = [
  "/../x.bin",
  "/a/../../x.bin",
  "/a/%2e%2e/x.bin",
  "/a/%2E%2E/%2e%2E/x.bin",
  "/..%2fx.bin",
  "/..%2F..%2Fetc%2Fpasswd",
  "/%c0%ae%c0%ae/x.bin",
  "/..%5cx.bin",
  "/a\\..\\x.bin",
  "/a/./x.bin",
  "/a/%2e/x.bin",
  "/x%00.bin",
  "/x.bin%00.txt",
  "//x.bin",
  "/a//x.bin",
  "/%2fetc/x.bin",
  "/a/%2F/x.bin",
  "/..",
  "/.",
  "/a/..",
  "/%ff%fe.bin",
  "/x.bin/..%00/"
]
const foreignPrefixes = [
  `/files/v2/${H.appId}/other-bucket/x.bin`,
  `/files/v2/1/${H.bucket}/x.bin`,
  `/files/v2/${H.appId}/${H.bucket}/../other-bucket/x.bin`,
  `/files/v2/${H.appId}/../../etc/passwd`,
  `/files/v3/${H.appId}/${H.bucket}/x.bin`,
  `/x.bin`
]

interface Fixture {
  readonly session: string
  readonly foreignSession: string
  readonly replayed: string
}

const generate = (i: number, rand: (n: number) => number, fx: Fixture): Hostile => {
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[rand(xs.length)]!
  const small = crypto.randomBytes(1 + rand(2048))
  const target = `${base}/hostile/f${i}.bin`
  switch (i % 12) {
    case 0: { // truncated multipart: a complete HTTP request whose multipart body stops short
      const m = H.multipart([["op", "upload"], ["insertOnly", "1"]], small)
      const cut = 1 + rand(m.body.length - 2)
      return {
        kind: "truncated multipart",
        // a cut inside the closing delimiter leaves the content whole: accepting it is leniency, storing a cut
        // content would be corruption
        ifAccepted: { path: `/hostile/f${i}.bin`, sha: H.sha1(small) },
        chunks: [
          http("POST", target, { "Content-Type": m.contentType, Authorization: H.multiSign() }, m.body.subarray(0, cut))
        ]
      }
    }
    case 1: { // bad boundaries
      const m = H.multipart([["op", "upload"]], small, "realboundary")
      const cts = [
        "multipart/form-data; boundary=otherboundary",
        "multipart/form-data",
        `multipart/form-data; boundary=${"b".repeat(300)}`,
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"realboundary",
        "multipart/mixed; boundary=--"
      ]
      const body = rand(2) === 0
        ? m.body
        : Buffer.from(m.body.toString("latin1").replace(/--realboundary--\r\n$/, ""), "latin1")
      return {
        kind: "bad boundary",
        chunks: [http("POST", target, { "Content-Type": pick(cts), Authorization: H.multiSign() }, body)]
      }
    }
    case 2: // oversized headers
      return {
        kind: "oversized header",
        chunks: [http("POST", target, { "X-Pad": "a".repeat(17_000 + rand(60_000)), Authorization: H.multiSign() })]
      }
    case 3: { // oversized fields and declared bodies
      if (rand(2) === 0) {
        const field = pick(["biz_attr", "sha", "filesize", "slice_size", "op"])
        const huge = "9".repeat(100_000 + rand(400_000))
        const fields: Array<[string, string]> = [["op", "upload_slice_init"], ["filesize", "1024"], [
          "slice_size",
          "1048576"
        ]]
        const at = fields.findIndex(([k]) => k === field)
        if (at >= 0) fields[at] = [field, huge]
        else fields.push([field, huge])
        return { kind: `oversized field ${field}`, chunks: [post(target, fields)] }
      }
      const declared = pick(["99999999999", "1e12", "-1", "abc", "18446744073709551616", "1, 2"])
      return {
        kind: "oversized/invalid Content-Length",
        chunks: [
          http(
            "POST",
            target,
            { "Content-Type": "application/json", Authorization: H.multiSign() },
            Buffer.from("{}"),
            declared
          )
        ]
      }
    }
    case 4: { // negative / unaligned / absurd offsets into a live session
      const offset = pick([
        "-1",
        "-1048576",
        "1",
        "1048575",
        "524288",
        "3145728",
        "9007199254740993",
        "abc",
        "1e3",
        "",
        "0x100000",
        " 0"
      ])
      const len = pick([1, 1024, 1048576 - 1])
      return {
        kind: "bad offset",
        chunks: [
          post(
            `${base}/open/s.bin`,
            [["op", "upload_slice_data"], ["session", fx.session], ["offset", offset]],
            crypto.randomBytes(len)
          )
        ]
      }
    }
    case 5: { // wrong or foreign sessions
      const session = pick([fx.foreignSession, "nope", "", "x".repeat(5000), fx.session + "x", "' OR 1=1 --"])
      const op = pick(["upload_slice_data", "upload_slice_finish"])
      return {
        kind: "wrong/foreign session",
        chunks: [post(
          `${base}/open/s.bin`,
          op === "upload_slice_finish"
            ? [["op", op], ["session", session], ["filesize", String(3 * H.MiB)]]
            : [["op", op], ["session", session], ["offset", String(H.MiB)]],
          op === "upload_slice_finish" ? undefined : crypto.randomBytes(H.MiB)
        )]
      }
    }
    case 6: // traversal paths in every encoding
      if (rand(6) === 0) {
        // double-encoded dots decode once to the literal name "%2e%2e": legal, and must never mean ".."
        return {
          kind: "double-encoded dots",
          chunks: [post(`${base}/hostile/%252e%252e/${pick(["x.bin", "%252e%252e/y.bin"])}`, [["op", "upload"]], small)]
        }
      }
      return {
        kind: "traversal",
        chunks: [
          post(`${base}${pick(traversals)}`, [["op", pick(["upload", "create", "delete", "upload_slice_init"])], [
            "filesize",
            "10"
          ]], small)
        ]
      }
    case 7: // foreign buckets, appids, prefixes
      return { kind: "foreign location", chunks: [post(pick(foreignPrefixes), [["op", "upload"]], small)] }
    case 8: { // forged, expired, wrong-bucket, malformed signatures
      const now = Math.floor(Date.now() / 1000)
      const sign = pick([
        H.multiSign({ key: "not-the-key" }),
        H.multiSign({ now: now - 10_000, lifetime: 60 }),
        H.multiSign({ bucket: "other-bucket" }),
        H.multiSign({ now: now + 100_000 }),
        "garbage",
        "",
        "a".repeat(4000),
        Buffer.from("a=1&b=2&k=x&e=1&t=1&r=1&f=").toString("base64"),
        H.multiSign().slice(0, 20)
      ])
      return { kind: "bad signature", chunks: [post(target, [["op", "upload"], ["insertOnly", "1"]], small, sign)] }
    }
    case 9: // replayed single-effect signature (used once legitimately in the setup)
      return {
        kind: "replayed signature",
        chunks: [
          http(
            "POST",
            `${base}/known/victim.bin`,
            { "Content-Type": "application/json", Authorization: fx.replayed },
            Buffer.from("{\"op\":\"delete\"}")
          )
        ],
        expect: [-5905]
      }
    case 10: { // unknown ops, bad methods, malformed JSON
      const variant = rand(5)
      if (variant === 0) {
        return {
          kind: "unknown op",
          chunks: [post(target, [["op", pick(["evil", "", "UPLOAD ", "upload\u0000", "__proto__"])]], small)]
        }
      }
      if (variant === 1) {
        return {
          kind: "bad method",
          chunks: [
            http(pick(["PUT", "PATCH", "DELETE", "TRACE", "CONNECT2"]), `${target}?op=upload`, {
              Authorization: H.multiSign()
            })
          ]
        }
      }
      const body = pick([
        "{",
        "[1,2]",
        "null",
        "{\"op\":{\"x\":1}}",
        "{\"op\":\"delete\",\"__proto__\":{\"a\":1}}",
        "\u0000\u0001"
      ])
      return {
        kind: "malformed JSON",
        chunks: [
          http("POST", `${base}/hostile/none.bin`, {
            "Content-Type": "application/json",
            Authorization: H.onceSign("/hostile/none.bin")
          }, Buffer.from(body))
        ]
      }
    }
    default: { // garbage on the wire
      const garbage = pick([
        Buffer.from("GET / HTTP/9.9\r\n\r\n"),
        Buffer.from("\u0000\u0001\u0002\r\n\r\n"),
        Buffer.from(
          `POST ${target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`
        ),
        Buffer.from(`POST ${target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`),
        crypto.randomBytes(64 + rand(512)),
        Buffer.from(
          `POST ${target}?op=upload&op=delete HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`
        )
      ])
      return { kind: "garbage", chunks: [garbage] }
    }
  }
}

describe("reliability: hostile input", () => {
  it(
    `${N} generated hostile requests: no crash, specific error envelopes, stored data unchanged, memory bounded`,
    async () => {
      const dir = H.tempDir("hostile")
      const dataDir = path.join(dir, "data")
      const emulator = await H.startEmulator(dataDir)
      try {
        // fixture: two files, a victim whose delete signature is replayed, two open sessions
        const known = crypto.randomBytes(200_000)
        for (const p of ["/known/a.bin", "/known/victim.bin"]) {
          const a = H.multipart([["op", "upload"]], known)
          const r = await H.request(emulator.port, {
            method: "POST",
            path: `${base}${p}`,
            headers: { "content-type": a.contentType, authorization: H.multiSign() },
            body: a.body
          })
          assert.strictEqual(r.json?.code, 0, r.text)
        }
        const replayed = H.onceSign("/known/victim.bin")
        const del = await H.request(emulator.port, {
          method: "POST",
          path: `${base}/known/victim.bin`,
          headers: { "content-type": "application/json", authorization: replayed },
          body: "{\"op\":\"delete\"}"
        })
        assert.strictEqual(del.json?.code, 0, del.text)
        const again = H.multipart([["op", "upload"]], known)
        assert.strictEqual(
          (await H.request(emulator.port, {
            method: "POST",
            path: `${base}/known/victim.bin`,
            headers: { "content-type": again.contentType, authorization: H.multiSign() },
            body: again.body
          })).json?.code,
          0
        )
        const init = async (p: string) => {
          const m = H.multipart([["op", "upload_slice_init"], ["filesize", String(3 * H.MiB)], [
            "slice_size",
            String(H.MiB)
          ]])
          const r = await H.request(emulator.port, {
            method: "POST",
            path: `${base}${p}`,
            headers: { "content-type": m.contentType, authorization: H.multiSign() },
            body: m.body
          })
          assert.strictEqual(r.json?.code, 0, r.text)
          return r.json.data.session as string
        }
        const session = await init("/open/s.bin")
        const first = H.multipart(
          [["op", "upload_slice_data"], ["session", session], ["offset", "0"]],
          crypto.randomBytes(H.MiB)
        )
        assert.strictEqual(
          (await H.request(emulator.port, {
            method: "POST",
            path: `${base}/open/s.bin`,
            headers: { "content-type": first.contentType, authorization: H.multiSign() },
            body: first.body
          })).json?.code,
          0
        )
        const fx: Fixture = { session, foreignSession: await init("/open/t.bin"), replayed }

        const before = H.snapshot(dataDir, "/hostile/")
        // warm up, then measure
        for (let i = 0; i < 24; i++) await H.raw(emulator.port, generate(i, H.prng(99 + i), fx).chunks)
        const rssBefore = H.rss(emulator.child.pid!)
        const rand = H.prng(4 * 1000 + N)
        const kinds = new Map<string, Map<string, number>>()
        const violations: Array<string> = []
        const accepted: Array<string> = []
        const mustHold: Array<{ readonly path: string; readonly sha: string }> = []
        const batch = 8
        const rssSamples: Array<number> = []
        for (let i = 0; i < N; i += batch) {
          if (i % (N / 4) < batch) rssSamples.push(H.rss(emulator.child.pid!))
          const requests = Array.from({ length: Math.min(batch, N - i) }, (_, k) => generate(i + k, rand, fx))
          const answers = await Promise.all(requests.map((r) => H.raw(emulator.port, r.chunks)))
          for (const [k, a] of answers.entries()) {
            const r = requests[k]!
            const code = a?.json?.code
            const tally = kinds.get(r.kind) ?? new Map<string, number>()
            tally.set(String(code), (tally.get(String(code)) ?? 0) + 1)
            kinds.set(r.kind, tally)
            if (a === undefined) violations.push(`${r.kind}: no answer`)
            else if (typeof code !== "number" || typeof a.json.message !== "string") {
              violations.push(`${r.kind}: not an envelope: ${a.status} ${a.body.slice(0, 200)}`)
            } else if (code === 0 && (tolerated.has(r.kind) || r.ifAccepted !== undefined)) {
              accepted.push(r.kind)
              if (r.ifAccepted !== undefined) mustHold.push(r.ifAccepted)
            } else if (code === 0) violations.push(`${r.kind}: accepted: ${r.chunks[0]!.toString("latin1", 0, 200)}`)
            else if (code === -5000 || a.status === 500) {
              violations.push(`${r.kind}: generic internal error: ${a.body.slice(0, 200)}`)
            } else if (r.expect !== undefined && !r.expect.includes(code)) {
              violations.push(`${r.kind}: ${code} not in ${r.expect}`)
            }
          }
        }
        const rssAfter = H.rss(emulator.child.pid!)
        assert.isNull(emulator.child.exitCode, "the emulator crashed")
        // still serving
        const alive = await H.request(emulator.port, {
          path: `${base}/known/a.bin?op=stat`,
          headers: { authorization: H.multiSign() }
        })
        assert.strictEqual(alive.json?.data?.sha, H.sha1(known))
        assert.deepStrictEqual(violations, [])
        const db = H.readDb(dataDir)
        for (const m of mustHold) assert.strictEqual(H.storedSha(dataDir, db, m.path), m.sha, `${m.path} stored cut`)
        // whatever was accepted, no stored path has a dot segment, an empty segment or a NUL
        for (const o of db.objects) {
          assert.notMatch(o.path, /\/\.\.?(\/|$)|\/\/.|\u0000/, `stored path ${JSON.stringify(o.path)}`)
        }
        assert.strictEqual(H.snapshot(dataDir, "/hostile/"), before, "stored data changed")
        // bounded: not more than 96 MiB above the warmed-up RSS, and no steady growth (the second half of the
        // requests adds less than 48 MiB: buffers are pooled, bodies are dropped after their answer)
        rssSamples.push(rssAfter)
        const mid = rssSamples[Math.floor(rssSamples.length / 2)]!
        assert.isBelow(rssAfter - rssBefore, 96 * H.MiB, `RSS grew from ${rssBefore} to ${rssAfter}`)
        assert.isBelow(rssAfter - mid, 48 * H.MiB, `RSS still growing: ${rssSamples.join(", ")}`)
        assert.notMatch(emulator.stderr(), /Unhandled|uncaught|TypeError|RangeError/i)
        assert.notInclude(emulator.stderr(), H.secretKey, "the emulator logged a secret key")
        const summary = Object.fromEntries(Array.from(kinds, ([k, v]) => [k, Object.fromEntries(v)]))
        H.report(
          `hostile input (${N}, ${accepted.length} tolerated): rss ${
            [rssBefore, ...rssSamples].map((r) => (r / H.MiB).toFixed(1)).join(" → ")
          } MiB; codes per kind ${JSON.stringify(summary)}`
        )
      } finally {
        await emulator.stop()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
    300_000
  )

  it(
    "slow bodies get RequestTimeout, chunked bodies beyond the limit TooLarge (short limits, in-process emulator)",
    async () => {
      const scope = Effect.runSync(Scope.make())
      const emulator = await Effect.runPromise(
        Layer.buildWithScope(
          Emulator.layer({
            host: "127.0.0.1",
            port: 0,
            appId: H.appId,
            buckets: [H.bucket],
            auth: "off",
            idleTimeout: "300 millis",
            maxBodyBytes: 64 * 1024
          })
            .pipe(Layer.provide(EmulatorStorage.layerMemory)),
          scope
        ).pipe(Effect.map((ctx) => ctx.unsafeMap.get(Emulator.Emulator.key) as Emulator.Service))
      )
      try {
        const m = H.multipart([["op", "upload"]], crypto.randomBytes(4096))
        const whole = http("POST", `${base}/slow/x.bin`, { "Content-Type": m.contentType }, m.body)
        const head = whole.subarray(0, whole.length - m.body.length)
        const answers = await Promise.all([
          // headers, then part of the body, then silence
          H.raw(emulator.port, [head, m.body.subarray(0, 100)]),
          // a body trickling slower than the idle timeout allows
          H.raw(emulator.port, [head, ...Array.from({ length: 20 }, (_, i) => m.body.subarray(i * 10, i * 10 + 10))], {
            pauseMs: 400
          })
        ])
        for (const a of answers) {
          assert.isDefined(a)
          assert.strictEqual(a!.json?.code, -4015, a!.body)
        }
        // no Content-Length: a chunked body is counted as it arrives and cut at the limit
        const chunk = crypto.randomBytes(32 * 1024)
        const chunked = await H.raw(emulator.port, [
          Buffer.from(
            `POST ${base}/big/x.bin?op=upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
              `Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`
          ),
          ...Array.from(
            { length: 8 },
            () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
          ),
          Buffer.from("0\r\n\r\n")
        ])
        assert.strictEqual(chunked?.json?.code, -4013, chunked?.body)
      } finally {
        await Effect.runPromise(Scope.close(scope, Exit.void))
      }
    },
    60_000
  )
})
