// Emulator throughput vs the reference storing server, measured in the same run, alternating.
//
//   node packages/emulator/bench/emulator.bench.mjs [--size-mib 1024] [--runs 5] [--warmup-mib 2048]
//        [--ref-warmup-mib 1024] [--variants default,fsync] [--file F] [--reference PATH] [--max-attempts 3]
//        [--budget-sec 360] [--deadline-sec 540] [--json]
//
// Emulator side: `node --import tsx packages/emulator/src/bin.ts --auth off …` (one long-lived process per variant;
// `default` = the emulator's defaults, any other name N adds the flag --N, e.g. `fsync`), driven by the minimal v4
// client of v4client.mjs in this process (pipeline.mjs's design: pool of c+1 buffers, in-order SHA-1, 1 MiB slices, 4 in flight,
// keep-alive agent) doing upload_slice_init → upload_slice_data × n → upload_slice_finish with the sha, then `stat`
// to check that the stored file's sha is the client's. Each run goes to a new path; the previous run's file is
// deleted first (as the reference's /reset drops its file).
// Reference: one long-lived `../shared/bench-limits/server.mjs --mode mp-builtin-offset` and, per sample, a fresh
// `../shared/bench-limits/pipeline.mjs --port P --runs 1 --warmup-mib W --verify --json` (the method of
// ../shared/reference/effect-http-perf.md §3/§9). Missing reference → the rows are skipped with a note.
// A second reference server with `--slice-sha1` (it also computes the SHA-1 of every slice, the work a verifying
// server cannot skip) runs alternating with the rest, for comparison (`--no-sha1-reference` leaves it out).
// Figures: MB/s (10^6 B/s) of the slice phase (first read → last slice acknowledged; the span pipeline.mjs times),
// also of the whole upload (init → finish acknowledged, which includes the emulator's SHA-1 of the assembled file),
// the emulator's peak RSS (VmHWM of its process, reset before each run; also the max over all runs incl. warm-up,
// and idle after start), and CPU %.
// Disk writes are kept out of the comparison: on this VM, data written to the disk (a `sync`, the kernel's
// writeback, the --fsync variant) made page-cache writes for seconds afterwards 2-5 times as expensive, and it hit
// whichever server ran next. So each server's file is dropped right after its sample (the reference's by a
// `/reset`, the emulator's by a `delete`), which keeps the dirty data below the kernel's writeback threshold, and
// variants with flags (`--fsync`) run in a phase of their own, after the defaults, with their own reference
// samples. Like a reference sample (pipeline.mjs --warmup-mib W), an emulator sample uploads W MiB untimed first.
// A sample is repeated (at most --max-attempts times in all) when other processes took more than 20 % of a core
// during it; the least disturbed attempt is kept. After --budget-sec seconds samples are no longer repeated (and the
// wait for a quiet machine is shortened); after --deadline-sec no new round starts (fewer runs, with a note).
// Only Node built-ins (tsx only to run the emulator's TypeScript).
import { spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import readline from "node:readline"
import { fileURLToPath } from "node:url"
import { ensureFile, V4Client } from "./v4client.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, "../../..")
const args = process.argv.slice(2)
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
const SIZE = Number(opt("size-mib", 1024)) * 1048576
const RUNS = Number(opt("runs", 5))
const WARMUP = Number(opt("warmup-mib", 2048)) * 1048576
const REF_WARMUP_MIB = Number(opt("ref-warmup-mib", 1024))
const FILE = opt("file", path.join(os.tmpdir(), `cos-v4-bench-${SIZE / 1048576}m.bin`))
const REF = path.resolve(repoRoot, opt("reference", "../shared/bench-limits/pipeline.mjs"))
const VARIANTS = opt("variants", "default").split(",")
const SHA1_REFERENCE = !args.includes("--no-sha1-reference")
const JSON_OUT = args.includes("--json")
const MAX_ATTEMPTS = Number(opt("max-attempts", 3))
const BUDGET_SEC = Number(opt("budget-sec", 360))
const DEADLINE_SEC = Number(opt("deadline-sec", 540))
const elapsedSec = () => (Date.now() - T00) / 1000
const T00 = Date.now()
const BG_LIMIT = 20
const say = (s) => process.stderr.write(`[emulator.bench] ${s}\n`)

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
  return { min: s[0], median, max: s[s.length - 1], n: s.length }
}
const procStat = () => {
  const l = fs.readFileSync("/proc/stat", "latin1").split("\n")[0].trim().split(/\s+/).slice(1).map(Number)
  return { total: l.reduce((a, b) => a + b, 0), idle: l[3] + l[4] }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
// user+sys seconds of a process (clock ticks of 1/100 s on Linux)
const procCpuSec = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "latin1")
  const x = f.slice(f.lastIndexOf(")") + 2).split(" ")
  return (Number(x[11]) + Number(x[12])) / 100
}
const vmHWMMiB = (pid) => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "latin1"))[1]) / 1024
const resetHWM = (pid) => {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5")
    return true
  } catch {
    return false
  }
}
// Wait (at most ~tries/2 s) until other processes use < 15 % of a core; returns the last background CPU % seen.
async function waitQuiet(limitPct = 15, tries = 20) {
  let bg = 0
  for (let k = 0; k < tries; k++) {
    const a = procStat()
    await sleep(300)
    const b = procStat()
    bg = (1 - (b.idle - a.idle) / (b.total - a.total)) * 200
    if (bg < limitPct) break
    await sleep(200)
  }
  return bg
}

// children to stop if this process is told to stop (scripts/bench.mjs's timeout)
const children = new Set()
let stopping = false
const track = (child) => {
  children.add(child)
  child.once("exit", () => children.delete(child))
  return child
}

function spawnLine(cmd, argv, opts) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], ...opts }))
    let err = ""
    child.stderr.on("data", (c) => {
      err = (err + c).slice(-4000)
    })
    let ready = false
    readline.createInterface({ input: child.stdout }).once("line", (line) => {
      ready = true
      resolve({ child, line, stderrTail: () => err })
    })
    child.once("exit", (c, sig) => {
      const msg = `${path.basename(argv.find((a) => a.endsWith(".ts") || a.endsWith(".mjs")) ?? cmd)} exited ` +
        `${c ?? sig}: ${err}`
      if (!ready) reject(new Error(msg))
      else if (!stopping) say(`unexpected exit: ${msg}`)
    })
  })
}

/** Starts the emulator (one process: node --import tsx) on port 0 with a fresh data dir. */
export async function startEmulator(extraFlags = []) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cos-v4-bench-emu-"))
  const { child, line } = await spawnLine(process.execPath, [
    "--import",
    "tsx",
    path.join(repoRoot, "packages/emulator/src/bin.ts"),
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--appid",
    "1250000000",
    "--bucket",
    "bkt",
    "--auth",
    "off",
    ...extraFlags
  ], { cwd: repoRoot })
  const m = /^listening on http:\/\/([^:]+):(\d+)$/.exec(line.trim())
  if (!m) throw new Error(`unexpected first line from the emulator: ${line}`)
  child.stderr.resume()
  await sleep(200)
  return {
    child,
    idleRssMiB: vmHWMMiB(child.pid),
    port: Number(m[2]),
    dataDir,
    stop: async () => {
      stopping = true
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM")
        await new Promise((r) => child.once("exit", r))
      }
      fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

async function main() {
  const t00 = T00
  say(`file ${FILE}: ${(await ensureFile(FILE, SIZE)) ? "created" : "kept"}`)
  const haveRef = fs.existsSync(REF)
  const note = haveRef ? undefined : `reference ${path.relative(repoRoot, REF)} not found: reference rows skipped`
  if (note) say(note)

  // ---- reference servers (long-lived): plain, and one that also hashes each slice ----
  const startReference = async (extra) => {
    const { child, line } = await spawnLine(process.execPath, [
      path.join(path.dirname(REF), "server.mjs"),
      "--mode",
      "mp-builtin-offset",
      "--prealloc-mib",
      String(SIZE / 1048576),
      ...extra
    ])
    return { child, port: JSON.parse(line).port }
  }
  const ref = haveRef ? await startReference([]) : undefined
  const refSha1 = haveRef && SHA1_REFERENCE ? await startReference(["--slice-sha1"]) : undefined
  const pipeline = (warmupMiB, server = ref) =>
    new Promise((resolve, reject) => {
      const p = track(spawn(process.execPath, [
        REF,
        "--port",
        String(server.port),
        "--file",
        FILE,
        "--size-mib",
        String(SIZE / 1048576),
        "--runs",
        "1",
        "--warmup-mib",
        String(warmupMiB),
        "--verify",
        "--keep",
        "--json"
      ], { stdio: ["ignore", "pipe", "inherit"] }))
      let out = ""
      p.stdout.on("data", (c) => {
        out += c
      })
      p.once("exit", async (code) => {
        if (code !== 0) return reject(new Error(`pipeline.mjs exited ${code}`))
        // drop the server's file now (pipeline.mjs would only at its next run), keeping dirty data low
        await fetch(`http://127.0.0.1:${server.port}/reset`, { method: "POST" }).then((r) => r.text())
        const j = JSON.parse(out.trim().split("\n").pop())
        const r = j.runs[0]
        if (j.verified !== true) return reject(new Error("pipeline.mjs: the server's file did not verify"))
        resolve({
          mbps: r.mbps,
          clientCpuPct: r.clientCpuPct,
          serverCpuPct: r.serverCpuPct,
          machineCpuPct: r.machineCpuPct,
          bgCpuPct: r.machineCpuPct - r.clientCpuPct - r.serverCpuPct,
          waitBgCpuPct: r.bgCpuPct,
          clientPeakRssMiB: r.peakRssMiB,
          sha1: j.sha1
        })
      })
    })

  // ---- emulators (one long-lived process per variant) ----
  const emus = []
  for (const v of VARIANTS) {
    const flags = v === "default" ? [] : [`--${v}`]
    const e = await startEmulator(flags)
    const client = new V4Client({ port: e.port })
    emus.push({ name: v, flags, e, client, prev: undefined, samples: [], lifetimePeak: 0, seq: 0 })
  }
  const removePrev = async (x) => {
    if (x.prev !== undefined) {
      const d = await x.client.remove(x.prev)
      if (d.code !== 0) throw new Error(`delete ${x.prev}: ${JSON.stringify(d)}`)
      x.prev = undefined
    }
  }
  const emuRun = async (x, timed) => {
    await removePrev(x)
    if (timed) {
      // the same sequence as a reference sample (pipeline.mjs: warm-up uploads, /reset, timed run): untimed
      // uploads of --ref-warmup-mib first, so that the timed run does not come right after the sample's `sync`
      for (let left = REF_WARMUP_MIB * 1048576; left > 0; left -= SIZE) {
        const warm = `/bench/run-${x.seq++}.bin`
        await x.client.upload(FILE, warm, SIZE)
        x.prev = warm
        await removePrev(x)
      }
    }
    const cosPath = `/bench/run-${x.seq++}.bin`
    const waitBg = timed ? await waitQuiet(15, elapsedSec() > BUDGET_SEC ? 3 : 20) : 0
    const pid = x.e.child.pid
    const hwmOk = resetHWM(pid)
    const c0 = process.cpuUsage()
    const sc0 = procCpuSec(pid)
    const m0 = procStat()
    const r = await x.client.upload(FILE, cosPath, SIZE)
    const m1 = procStat()
    const sec = Number(r.t.finished - r.t.start) / 1e9
    const c = process.cpuUsage(c0)
    const serverCpuPct = ((procCpuSec(pid) - sc0) / sec) * 100
    const clientCpuPct = ((c.user + c.system) / 1e6 / sec) * 100
    const machineCpuPct = (1 - (m1.idle - m0.idle) / (m1.total - m0.total)) * 200
    const st = await x.client.stat(cosPath)
    if (st.code !== 0 || st.data.sha !== r.sha || st.data.filesize !== SIZE) {
      throw new Error(`stat ${cosPath}: ${JSON.stringify(st)} (client sha ${r.sha})`)
    }
    x.prev = cosPath
    const peak = vmHWMMiB(pid)
    // drop the file now rather than before the next run (see the header)
    await removePrev(x)
    x.lifetimePeak = Math.max(x.lifetimePeak, peak)
    return {
      mbps: SIZE / 1e6 / (Number(r.t.lastAck - r.t.initDone) / 1e9),
      mbpsTotal: SIZE / 1e6 / sec,
      finishMs: Number(r.t.finished - r.t.lastAck) / 1e6,
      peakRssMiB: hwmOk ? peak : undefined,
      clientCpuPct,
      serverCpuPct,
      machineCpuPct,
      bgCpuPct: machineCpuPct - clientCpuPct - serverCpuPct,
      waitBgCpuPct: waitBg,
      verified: true,
      sha1: r.sha
    }
  }
  // repeat a disturbed sample (other processes > BG_LIMIT % of a core), keeping the least disturbed attempt
  const sample = async (fn, label) => {
    let best
    // past the time budget, no more repeats
    const max = elapsedSec() > BUDGET_SEC ? 1 : MAX_ATTEMPTS
    for (let attempt = 1; attempt <= max; attempt++) {
      const s = await fn()
      if (best === undefined || s.bgCpuPct < best.bgCpuPct) best = s
      best.attempts = attempt
      if (s.bgCpuPct <= BG_LIMIT) break
      say(`${label}: disturbed (${s.bgCpuPct.toFixed(0)} % background)${attempt < max ? ", repeating" : ""}`)
    }
    best.disturbed = best.bgCpuPct > BG_LIMIT
    return best
  }

  try {
    // ---- warm-up (untimed) ----
    say(`warm-up: ${WARMUP / 1048576} MiB per server`)
    if (ref) await pipeline(Math.max(0, WARMUP / 1048576 - SIZE / 1048576))
    if (refSha1) await pipeline(Math.max(0, WARMUP / 1048576 - SIZE / 1048576), refSha1)
    // ---- timed rounds, alternating (order rotated every round); the defaults first, variants with flags
    // (--fsync, which writes to the disk) in a phase of their own afterwards, with their own reference samples ----
    const refSha1Samples = []
    const phases = [
      { emus: emus.filter((x) => x.flags.length === 0), withSha1: true, refSamples: [] },
      { emus: emus.filter((x) => x.flags.length > 0), withSha1: false, refSamples: [] }
    ].filter((ph) => ph.emus.length > 0)
    const refSamples = phases[0]?.refSamples ?? []
    let stoppedEarly
    for (const ph of phases) {
      for (const x of ph.emus) {
        x.phase = ph
        for (let left = WARMUP; left > 0; left -= SIZE) await emuRun(x, false)
      }
      for (let k = 0; k < RUNS; k++) {
        if (k > 0 && elapsedSec() > DEADLINE_SEC) {
          stoppedEarly = `stopped after ${k} of ${RUNS} rounds: past the ${DEADLINE_SEC} s deadline (a busy machine?)`
          say(stoppedEarly)
          break
        }
        const order = [
          ...(ref ? ["ref"] : []),
          ...(refSha1 && ph.withSha1 ? ["refSha1"] : []),
          ...ph.emus.map((x) => emus.indexOf(x))
        ]
        for (let j = 0; j < k % order.length; j++) order.push(order.shift())
        for (const o of order) {
          if (o === "ref") {
            const s = await sample(() => pipeline(REF_WARMUP_MIB), `round ${k} reference`)
            ph.refSamples.push(s)
            say(`round ${k} reference: ${s.mbps.toFixed(0)} MB/s`)
          } else if (o === "refSha1") {
            const s = await sample(() => pipeline(REF_WARMUP_MIB, refSha1), `round ${k} reference --slice-sha1`)
            refSha1Samples.push(s)
            say(`round ${k} reference --slice-sha1: ${s.mbps.toFixed(0)} MB/s`)
          } else {
            const x = emus[o]
            const s = await sample(() => emuRun(x, true), `round ${k} emulator ${x.name}`)
            x.samples.push(s)
            say(
              `round ${k} emulator ${x.name}: ${s.mbps.toFixed(0)} MB/s slices, ${s.mbpsTotal.toFixed(0)} MB/s ` +
                `init→finish, RSS ${s.peakRssMiB?.toFixed(0)} MiB`
            )
          }
        }
      }
    }
    const round = (x, d = 0) => (x === undefined ? undefined : Number(x.toFixed(d)))
    const st = (xs, d = 0) => {
      const s = stats(xs)
      return { min: round(s.min, d), median: round(s.median, d), max: round(s.max, d), n: s.n }
    }
    const refMbps = ref ? stats(refSamples.map((s) => s.mbps)) : undefined
    const phaseRefMbps = (x) => (ref ? stats(x.phase.refSamples.map((s) => s.mbps)) : undefined)
    const refSha1Mbps = refSha1 ? stats(refSha1Samples.map((s) => s.mbps)) : undefined
    const out = {
      sizeMiB: SIZE / 1048576,
      sliceMiB: 1,
      concurrency: 4,
      runs: RUNS,
      warmupMiB: WARMUP / 1048576,
      refWarmupMiB: REF_WARMUP_MIB,
      note: [note, stoppedEarly].filter(Boolean).join("; ") || undefined,
      elapsedSec: 0,
      reference: ref
        ? {
          command: `node ${path.relative(repoRoot, REF)} --port P --runs 1 --warmup-mib ${REF_WARMUP_MIB} --verify ` +
            `--json (server: server.mjs --mode mp-builtin-offset)`,
          mbps: st(refSamples.map((s) => s.mbps)),
          clientPeakRssMiB: st(refSamples.map((s) => s.clientPeakRssMiB), 1),
          serverCpuPct: st(refSamples.map((s) => s.serverCpuPct)),
          clientCpuPct: st(refSamples.map((s) => s.clientCpuPct)),
          disturbed: refSamples.filter((s) => s.disturbed).length,
          samples: refSamples
        }
        : undefined,
      referenceSha1: refSha1
        ? {
          command: `the same, server: server.mjs --mode mp-builtin-offset --slice-sha1`,
          mbps: st(refSha1Samples.map((s) => s.mbps)),
          ratio: refMbps ? round(refSha1Mbps.median / refMbps.median, 2) : undefined,
          serverCpuPct: st(refSha1Samples.map((s) => s.serverCpuPct)),
          clientCpuPct: st(refSha1Samples.map((s) => s.clientCpuPct)),
          disturbed: refSha1Samples.filter((s) => s.disturbed).length,
          samples: refSha1Samples
        }
        : undefined,
      emulator: emus.map((x) => ({
        variant: x.name,
        flags: x.flags,
        mbps: st(x.samples.map((s) => s.mbps)),
        mbpsTotal: st(x.samples.map((s) => s.mbpsTotal)),
        finishMs: st(x.samples.map((s) => s.finishMs)),
        peakRssMiB: x.samples.every((s) => s.peakRssMiB !== undefined)
          ? st(x.samples.map((s) => s.peakRssMiB), 1)
          : undefined,
        lifetimePeakRssMiB: round(x.lifetimePeak, 1),
        idleRssMiB: round(x.e.idleRssMiB, 1),
        serverCpuPct: st(x.samples.map((s) => s.serverCpuPct)),
        clientCpuPct: st(x.samples.map((s) => s.clientCpuPct)),
        // against the reference samples of the emulator's own phase (the same samples as the reference row for the
        // defaults)
        referenceMbps: ref ? st(x.phase.refSamples.map((s) => s.mbps)) : undefined,
        ratio: ref ? round(stats(x.samples.map((s) => s.mbps)).median / phaseRefMbps(x).median, 2) : undefined,
        ratioTotal: ref
          ? round(stats(x.samples.map((s) => s.mbpsTotal)).median / phaseRefMbps(x).median, 2)
          : undefined,
        pairedRatio: ref ? st(x.samples.map((s, i) => s.mbps / x.phase.refSamples[i].mbps), 2) : undefined,
        ratioToSha1Reference: refSha1Mbps
          ? round(stats(x.samples.map((s) => s.mbps)).median / refSha1Mbps.median, 2)
          : undefined,
        verified: x.samples.every((s) => s.verified),
        disturbed: x.samples.filter((s) => s.disturbed).length,
        samples: x.samples
      }))
    }
    out.elapsedSec = Math.round((Date.now() - t00) / 1000)
    if (JSON_OUT) process.stdout.write(JSON.stringify(out) + "\n")
    else {
      const f = (s) => `${s.min} / ${s.median} / ${s.max}`
      if (out.reference) {
        process.stdout.write(`reference (pipeline.mjs → server.mjs mp-builtin-offset): ${f(out.reference.mbps)} MB/s\n`)
      }
      for (const e of out.emulator) {
        process.stdout.write(
          `emulator ${e.variant}: ${f(e.mbps)} MB/s (slices), ${
            f(e.mbpsTotal)
          } MB/s (init→finish), ratio ${e.ratio}×, ` +
            `peak RSS ${e.peakRssMiB ? f(e.peakRssMiB) : "?"} MiB (lifetime ${e.lifetimePeakRssMiB})\n`
        )
      }
    }
  } finally {
    stopping = true
    for (const x of emus) {
      x.client.close()
      await x.e.stop()
    }
    for (const server of [ref, refSha1]) {
      if (server === undefined) continue
      server.child.kill("SIGTERM")
      await new Promise((r) => server.child.once("exit", r))
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once("SIGTERM", () => {
    stopping = true
    for (const c of children) c.kill("SIGTERM")
    process.exit(143)
  })
  await main()
}
