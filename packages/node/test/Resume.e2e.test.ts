import * as Emulator from "@cos-v4/emulator/Emulator"
import * as Cos from "@cos-v4/slicer/Cos"
import type * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import * as NodeCos from "../src/NodeCos.js"
import { appId, bucket, credentials, emulatorCredentials, MiB, sha1OfFile, tempDir, writeFile } from "./helpers.js"

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))
const runner = fileURLToPath(new URL("./fixtures/upload-runner.ts", import.meta.url))

interface SliceRequest {
  readonly phase: number
  readonly offset: number
  stored: boolean
}

/**
 * A reverse proxy in front of the emulator that logs every `upload_slice_data` request (its offset, and
 * whether the emulator stored it) and can delay slice answers, so the client is reliably mid-upload when killed.
 */
interface ProxyState {
  phase: number
  delayMs: number
  /** requests forwarded to the emulator whose answer (or failure) has not come back yet */
  inFlight: number
  readonly log: Array<SliceRequest>
}

const proxy = (upstreamPort: number, state: ProxyState) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly url: string }>((resume) => {
      const server = Http.createServer((req, res) => {
        res.on("error", () => {})
        let entry: SliceRequest | undefined
        let head: Buffer | undefined = Buffer.alloc(0)
        let settled = false
        const settle = () => {
          if (!settled) {
            settled = true
            state.inFlight--
          }
        }
        state.inFlight++
        const upstream = Http.request({
          host: "127.0.0.1",
          port: upstreamPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: false
        }, (answer) => {
          const chunks: Array<Buffer> = []
          answer.on("data", (c: Buffer) => chunks.push(c))
          answer.on("end", () => {
            const body = Buffer.concat(chunks)
            if (entry !== undefined) entry.stored = answer.statusCode === 200 && /"code"\s*:\s*0\b/.test(String(body))
            settle()
            setTimeout(() => {
              res.writeHead(answer.statusCode ?? 502, answer.headers)
              res.end(body)
            }, entry === undefined ? 0 : state.delayMs)
          })
        })
        let answered = false
        upstream.on("response", () => answered = true)
        upstream.on("error", () => {
          settle()
          res.destroy()
        })
        upstream.on("close", () => {
          if (!answered) settle()
        })
        req.on("data", (chunk: Buffer) => {
          if (head !== undefined) {
            head = Buffer.concat([head, chunk])
            if (head.length >= 2048) inspect()
          }
          upstream.write(chunk)
        })
        const inspect = () => {
          const text = head!.toString("latin1")
          head = undefined
          if (!text.includes("upload_slice_data")) return
          const offset = /name="offset"\r\n\r\n(\d+)/.exec(text)
          entry = { phase: state.phase, offset: Number(offset?.[1] ?? -1), stored: false }
          state.log.push(entry)
        }
        req.on("end", () => {
          if (head !== undefined) inspect()
          upstream.end()
        })
        req.on("close", () => {
          if (!req.complete) upstream.destroy()
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}` }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  )

interface RunnerLine {
  readonly event: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly [k: string]: any
}

/** Runs the upload runner; `killAfterAcks` sends SIGKILL once that many slices were acknowledged. */
const runRunner = (
  args: ReadonlyArray<string>,
  killAfterAcks?: number
): Promise<{ readonly lines: Array<RunnerLine>; readonly code: number | null; readonly signal: string | null }> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, ["--import", "tsx", runner, ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const lines: Array<RunnerLine> = []
    let acks = 0
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => stderr += String(c))
    Readline.createInterface({ input: child.stdout }).on("line", (text) => {
      const line = JSON.parse(text) as RunnerLine
      lines.push(line)
      if (line.event === "SliceAcknowledged") acks++
      if (killAfterAcks !== undefined && acks === killAfterAcks) child.kill("SIGKILL")
    })
    child.on("error", reject)
    child.on("close", (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`runner exited ${code}: ${stderr}\n${JSON.stringify(lines)}`))
      else resolve({ lines, code, signal })
    })
  })

const integrities: ReadonlyArray<UploadOptions.Integrity> = ["sha-at-init", "inline"]

layer(Emulator.layerTest({ appId, buckets: [bucket], credentials: emulatorCredentials, auth: "strict" }), {
  timeout: 60_000,
  excludeTestServices: true // the emulator and the client processes share the real clock (signature times)
})("resume after the client process is killed with SIGKILL", (it) => {
  describe.each(integrities)("integrity %s", (integrity) => {
    it.scoped("the rerun sends only the missing slices and stores the source's SHA-1", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const dir = tempDir("resume")
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
        const size = 24 * MiB + 123
        const sliceCount = Math.ceil(size / MiB)
        const file = writeFile(Path.join(dir, "source.bin"), size, 11)
        const checkpoints = Path.join(dir, "checkpoints")
        const state: ProxyState = { phase: 1, delayMs: 25, inFlight: 0, log: [] }
        const { url } = yield* proxy(emulator.port, state)
        const target = `/resume/${integrity}.bin`
        const args = [
          "--endpoint",
          url,
          "--file",
          file,
          "--target",
          target,
          "--checkpoint-dir",
          checkpoints,
          "--integrity",
          integrity,
          "--concurrency",
          "2"
        ]

        // 1. killed after 4 acknowledged slices
        const first = yield* Effect.promise(() => runRunner(args, 4))
        assert.strictEqual(first.signal, "SIGKILL")
        assert.isFalse(first.lines.some((l) => l.event === "Completed"))
        // let the requests the dead client left with the emulator finish (stored or aborted)
        yield* Effect.promise(() =>
          new Promise<void>((resolve) => {
            const poll = () => state.inFlight === 0 ? resolve() : setTimeout(poll, 5)
            poll()
          })
        )
        const storedFirst = new Set(state.log.filter((r) => r.stored).map((r) => r.offset))
        assert.isAtLeast(storedFirst.size, 4)
        assert.isBelow(storedFirst.size, sliceCount)
        // the dead client's lock and checkpoint are left behind
        const leftBehind = Fs.readdirSync(checkpoints)
        assert.isTrue(leftBehind.some((f) => f.endsWith(".lock")), leftBehind.join(","))
        assert.isTrue(leftBehind.some((f) => f.endsWith(".json")), leftBehind.join(","))

        // 2. the rerun (a new process: takes the dead process's lock over) completes
        state.phase = 2
        state.delayMs = 0
        const second = yield* Effect.promise(() => runRunner(args))
        assert.strictEqual(second.code, 0)
        const completed = second.lines.find((l) => l.event === "Completed")
        assert.isDefined(completed)
        const receipt = completed!.receipt
        const expected = sha1OfFile(file)
        assert.strictEqual(receipt.sha1, expected)
        assert.isTrue(receipt.resumed)
        assert.strictEqual(receipt.slicesSkipped, storedFirst.size)
        assert.strictEqual(receipt.slicesSent, sliceCount - storedFirst.size)

        // only the missing slices went over the wire the second time, and together they cover the file
        const sentSecond = state.log.filter((r) => r.phase === 2)
        assert.strictEqual(sentSecond.length, sliceCount - storedFirst.size)
        for (const r of sentSecond) assert.isFalse(storedFirst.has(r.offset), `offset ${r.offset} sent twice`)
        const all = new Set([...storedFirst, ...sentSecond.filter((r) => r.stored).map((r) => r.offset)])
        assert.deepStrictEqual([...all].sort((a, b) => a - b), Array.from({ length: sliceCount }, (_, i) => i * MiB))

        // the server has the source's content; the checkpoint and the lock are gone
        const stat = yield* Cos.stat(target).pipe(
          Effect.provide(
            NodeCos.layer({ endpoint: emulator.url, appId, bucket, credentials, checkpointDir: checkpoints })
          )
        )
        assert.strictEqual(stat.sha, expected)
        assert.strictEqual(stat.filesize ?? stat.filelen, size)
        assert.deepStrictEqual(Fs.readdirSync(checkpoints).filter((f) => !f.endsWith(".tmp")), [])
      }))
  })
})
