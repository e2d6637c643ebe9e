/**
 * Durability: a real emulator process (bin.ts on disk storage) is killed with SIGKILL in the middle of a slice
 * upload, restarted on the same data directory, and the upload resumes and finishes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import * as h from "./helpers.js"

const bin = path.resolve(import.meta.dirname, "../src/bin.ts")

const start = (dataDir: string) =>
  Effect.promise(() =>
    new Promise<{ child: ChildProcess; port: number; line: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", bin, "--data-dir", dataDir, "--port", "0"], {
        cwd: path.resolve(import.meta.dirname, ".."),
        stdio: ["ignore", "pipe", "inherit"]
      })
      readline.createInterface({ input: child.stdout! }).once("line", (line) => {
        const port = Number(/^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(line)?.[1])
        resolve({ child, port, line })
      })
      child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)))
    })
  )

const stopped = (child: ChildProcess, signal: NodeJS.Signals) =>
  Effect.promise(() =>
    new Promise<number | null>((resolve) => {
      child.once("exit", (code, sig) => resolve(code ?? (sig === null ? null : -1)))
      child.kill(signal)
    })
  )

describe("emulator process", () => {
  it.live(
    "survives SIGKILL mid-upload and resumes after a restart; SIGTERM exits cleanly",
    () =>
      Effect.gen(function*() {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cos-emu-kill-"))
        const slice = 524288
        const file = h.patternFile(5 * slice + 123)
        const sha = h.sha1(file)
        const target = h.url("/durable/big.bin")
        const field = (fields: Record<string, string>, payload?: Buffer) => [
          ...Object.entries(fields).map(([name, value]) => ({ name, value })),
          ...(payload === undefined ? [] : [{ name: "filecontent", value: payload }])
        ]
        const post = (port: number, fields: Record<string, string>, payload?: Buffer) =>
          Effect.promise(() => h.postMultipart(port, target, field(fields, payload)))
        const sendSlice = (port: number, session: string, index: number) =>
          post(
            port,
            { op: "upload_slice_data", session, offset: String(index * slice), sha },
            file.subarray(index * slice, (index + 1) * slice)
          )

        const first = yield* start(dataDir)
        assert.match(first.line, /^listening on http:\/\/127\.0\.0\.1:\d+$/)
        const init = yield* post(first.port, {
          op: "upload_slice_init",
          filesize: String(file.length),
          slice_size: String(slice),
          sha
        })
        assert.strictEqual(init.json.code, 0)
        const session: string = init.json.data.session
        for (const i of [0, 1, 3]) assert.strictEqual((yield* sendSlice(first.port, session, i)).json.code, 0)
        yield* stopped(first.child, "SIGKILL")

        const second = yield* start(dataDir)
        const list = yield* post(second.port, { op: "upload_slice_list" })
        assert.strictEqual(list.json.code, 0)
        assert.strictEqual(list.json.data.session, session)
        assert.strictEqual(list.json.data.sha, sha)
        assert.deepStrictEqual(list.json.data.listparts, [
          { offset: 0, datalen: slice },
          { offset: slice, datalen: slice },
          { offset: 3 * slice, datalen: slice }
        ])
        for (const i of [2, 4, 5]) assert.strictEqual((yield* sendSlice(second.port, session, i)).json.code, 0)
        const fin = yield* post(second.port, { op: "upload_slice_finish", session, filesize: String(file.length), sha })
        assert.strictEqual(fin.json.code, 0, JSON.stringify(fin.json))
        const got = yield* Effect.promise(() => h.get(second.port, target))
        assert.strictEqual(h.sha1(got.body), sha)
        assert.strictEqual(yield* stopped(second.child, "SIGTERM"), 0)

        // after a clean restart the finished file is still there and no session is left over
        const third = yield* start(dataDir)
        const stat = yield* Effect.promise(() => h.get(third.port, `${target}?op=stat`))
        assert.strictEqual(stat.json.data.sha, sha)
        assert.strictEqual(fs.readdirSync(path.join(dataDir, "sessions")).length, 0)
        assert.strictEqual(fs.readdirSync(path.join(dataDir, "objects")).length, 1)
        yield* stopped(third.child, "SIGKILL")
        fs.rmSync(dataDir, { recursive: true, force: true })
      }),
    60_000
  )
})
