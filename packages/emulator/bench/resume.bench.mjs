// Resume after a killed client, and instant upload (秒传), against the emulator with the minimal v4 client.
//
//   node packages/emulator/bench/resume.bench.mjs [--size-mib 256] [--runs 5] [--file F] [--json]
//
// One emulator process (`--auth off`, default flags). Per round, after one untimed warm-up round:
// - fresh: a new client process (v4client.mjs) uploads the file from scratch; wall time from spawn to the first
//   acknowledged slice and to exit (finish acknowledged). This is the same-run reference for the resume figures.
// - kill + resume: a client process uploads the file and is SIGKILLed once half of the slices are acknowledged;
//   then a new process reruns it with --resume (upload_slice_list → only the unlisted slices are sent; the listed
//   ones are still read and hashed in order for the whole-file SHA-1). Wall time from the rerun's spawn to its first
//   newly acknowledged slice, and to its exit. The stored file's sha is checked with `stat`.
// - instant: in this process, SHA-1 of the whole file then upload_slice_init with that sha to a new path; the
//   emulator already stores that content (the fresh upload), so it answers with the access info and no session.
//   Times: hashing, the init round trip, and the sum (the user-visible instant upload). Its reference is the fresh
//   full upload.
// Only Node built-ins (tsx only to run the emulator's TypeScript).
import { spawn } from "node:child_process"
import os from "node:os"
import path from "node:path"
import readline from "node:readline"
import { fileURLToPath } from "node:url"
import { startEmulator } from "./emulator.bench.mjs"
import { ensureFile, sha1File, V4Client } from "./v4client.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
const SIZE = Number(opt("size-mib", 256)) * 1048576
const RUNS = Number(opt("runs", 5))
const FILE = opt("file", path.join(os.tmpdir(), `cos-v4-bench-${SIZE / 1048576}m.bin`))
const JSON_OUT = args.includes("--json")
const CLIENT = path.join(here, "v4client.mjs")
const say = (s) => process.stderr.write(`[resume.bench] ${s}\n`)

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
  return { min: s[0], median, max: s[s.length - 1], n: s.length }
}
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6

/**
 * Runs the client as a child process. `killAtBytes`: SIGKILL once that many bytes are acknowledged.
 * Resolves with wall times (ms from spawn) of the first acknowledged slice and of the exit, and the client's result.
 */
function runClient(port, cosPath, { resume = false, killAtBytes } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const argv = [CLIENT, "--port", String(port), "--file", FILE, "--cos-path", cosPath, "--progress"]
    if (resume) argv.push("--resume")
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"] })
    current = child
    let firstAckMs
    let acked = 0
    let result
    let killed = false
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("first-new-ack")) firstAckMs = ms(t0)
      else if (line.startsWith("ack ")) {
        acked += Number(line.split(" ")[2])
        if (killAtBytes !== undefined && !killed && acked >= killAtBytes) {
          killed = true
          child.kill("SIGKILL")
        }
      } else if (line.startsWith("{")) result = JSON.parse(line)
    })
    child.once("exit", (code, signal) => {
      const exitMs = ms(t0)
      if (killed && signal === "SIGKILL") return resolve({ killed: true, ackedBytes: acked, firstAckMs, exitMs })
      if (code !== 0) return reject(new Error(`client exited ${code ?? signal}`))
      if (killAtBytes !== undefined) return reject(new Error("the client finished before it could be killed"))
      resolve({ killed: false, ackedBytes: acked, firstAckMs, exitMs, result })
    })
  })
}

// stop the running client and the emulator when told to stop (scripts/bench.mjs's timeout)
let current
let emulator
process.once("SIGTERM", () => {
  current?.kill("SIGKILL")
  emulator?.child.kill("SIGTERM")
  process.exit(143)
})

async function main() {
  const t00 = Date.now()
  say(`file ${FILE}: ${(await ensureFile(FILE, SIZE)) ? "created" : "kept"}`)
  const emu = await startEmulator()
  emulator = emu
  const client = new V4Client({ port: emu.port })
  const check = async (cosPath, sha) => {
    const st = await client.stat(cosPath)
    if (st.code !== 0 || st.data.sha !== sha || st.data.filesize !== SIZE) {
      throw new Error(`stat ${cosPath}: ${JSON.stringify(st)} (expected sha ${sha})`)
    }
  }
  const rows = []
  try {
    for (let k = -1; k < RUNS; k++) { // k = -1: untimed warm-up round
      const fresh = await runClient(emu.port, `/resume/fresh-${k}.bin`)
      await check(`/resume/fresh-${k}.bin`, fresh.result.sha)

      const killPath = `/resume/kill-${k}.bin`
      const killed = await runClient(emu.port, killPath, { killAtBytes: SIZE / 2 })
      const resumed = await runClient(emu.port, killPath, { resume: true })
      await check(killPath, resumed.result.sha)
      if (resumed.result.sha !== fresh.result.sha) throw new Error("resumed upload: another sha")

      const t0 = process.hrtime.bigint()
      const sha = await sha1File(FILE, SIZE)
      const hashMs = ms(t0)
      const t1 = process.hrtime.bigint()
      const init = await client.init(`/resume/instant-${k}.bin`, SIZE, sha)
      const initMs = ms(t1)
      const instantMs = ms(t0)
      if (init.code !== 0 || init.data.session !== undefined || typeof init.data.access_url !== "string") {
        throw new Error(`instant upload not hit: ${JSON.stringify(init)}`)
      }
      await check(`/resume/instant-${k}.bin`, sha)
      for (const p of ["fresh", "kill", "instant"]) await client.remove(`/resume/${p}-${k}.bin`)

      const row = {
        fresh: { firstAckMs: fresh.firstAckMs, totalMs: fresh.exitMs },
        killedAfterMs: killed.exitMs,
        killedAckedMiB: killed.ackedBytes / 1048576,
        resume: {
          firstNewAckMs: resumed.firstAckMs,
          totalMs: resumed.exitMs,
          slicesSkipped: resumed.result.skipped,
          slicesSent: resumed.result.sent
        },
        instant: { hashMs, initMs, totalMs: instantMs }
      }
      if (k < 0) continue
      rows.push(row)
      say(
        `round ${k}: fresh ${row.fresh.totalMs.toFixed(0)} ms (first ack ${row.fresh.firstAckMs.toFixed(0)}); ` +
          `killed at ${row.killedAckedMiB} MiB acked; resume first new ack ${
            row.resume.firstNewAckMs.toFixed(0)
          } ms, ` +
          `total ${row.resume.totalMs.toFixed(0)} ms (${row.resume.slicesSkipped} slices skipped); instant ` +
          `${instantMs.toFixed(0)} ms (hash ${hashMs.toFixed(0)}, init ${initMs.toFixed(1)})`
      )
    }
  } finally {
    client.close()
    await emu.stop()
  }
  const st = (xs, d = 0) => {
    const s = stats(xs)
    return { min: +s.min.toFixed(d), median: +s.median.toFixed(d), max: +s.max.toFixed(d), n: s.n }
  }
  const freshTotal = stats(rows.map((r) => r.fresh.totalMs)).median
  const out = {
    sizeMiB: SIZE / 1048576,
    runs: RUNS,
    elapsedSec: Math.round((Date.now() - t00) / 1000),
    fresh: { firstAckMs: st(rows.map((r) => r.fresh.firstAckMs)), totalMs: st(rows.map((r) => r.fresh.totalMs)) },
    killedAckedMiB: st(rows.map((r) => r.killedAckedMiB)),
    resume: {
      firstNewAckMs: st(rows.map((r) => r.resume.firstNewAckMs)),
      totalMs: st(rows.map((r) => r.resume.totalMs)),
      slicesSkipped: st(rows.map((r) => r.resume.slicesSkipped)),
      ratioFirstAck: +(stats(rows.map((r) => r.resume.firstNewAckMs)).median /
        stats(rows.map((r) => r.fresh.firstAckMs)).median).toFixed(2),
      ratioTotal: +(stats(rows.map((r) => r.resume.totalMs)).median / freshTotal).toFixed(2)
    },
    instant: {
      hashMs: st(rows.map((r) => r.instant.hashMs)),
      initMs: st(rows.map((r) => r.instant.initMs), 1),
      totalMs: st(rows.map((r) => r.instant.totalMs)),
      ratioTotal: +(stats(rows.map((r) => r.instant.totalMs)).median / freshTotal).toFixed(2)
    },
    rows
  }
  if (JSON_OUT) process.stdout.write(JSON.stringify(out) + "\n")
  else process.stdout.write(JSON.stringify(out, null, 2) + "\n")
}

await main()
