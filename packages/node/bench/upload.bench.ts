/**
 * Upload throughput and client memory of the cos-v4 uploader (`@cos-v4/node`'s `NodeCos.layer`) against the
 * emulator running in a separate process, with `../shared/bench-limits/pipeline.mjs --server-mode
 * mp-builtin-offset` (a hand-written node:http client against a minimal storing server) as the ceiling, in the
 * same run.
 *
 *   node_modules/.bin/tsx packages/node/bench/upload.bench.ts [--quick] [--size-mib 1024] [--runs 5]
 *     [--warmup-mib 2048] [--concurrency 4] [--slice-mib 1] [--rounds 1] [--no-ceiling] [--no-rss]
 *     [--emulator-fsync] [--json-out FILE]
 *
 * - The file (default 1 GiB, in the page cache) is read in `--slice-mib` slices, `--concurrency` in flight.
 * - Each variant runs in a fresh client process (this script with `--client`): untimed warm-up of
 *   `--warmup-mib`, then `--runs` timed uploads; MB = 10^6 bytes; min / median / max over the runs. V8 keeps
 *   compiling the Effect code paths for the first few GiB of a process, so `pnpm bench` warms up 4 GiB (as
 *   pipeline.mjs recommends for steady state, and the ceiling gets the same); the first upload of each fresh
 *   process is reported on its own (`firstMbps`).
 * - Before each upload the first 8 bytes of the file are rewritten with a counter, so no two uploads have the
 *   same SHA-1 (no instant upload); each upload goes to a new path and is removed (untimed) right after it, as
 *   the ceiling's server drops its file when it exits, so that no data reaches the disk.
 * - Before each timed run the client waits (≤ 10 s) for other processes to use < 15 % of a core, like
 *   pipeline.mjs; the background CPU seen is reported per run (`backgroundCpuPct`) to spot disturbed samples.
 * - The client processes run this file bundled by esbuild (into `bench/.bundle/`) under plain `node`, as an app
 *   ships the library; tsx's loader alone would add about 40 MiB to every RSS figure.
 * - Client peak RSS = VmHWM of the client process during the timed run (reset with /proc/self/clear_refs),
 *   with V8's defaults, with `NodeMemory.bound()` (`--bound-memory`), and with V8's defaults and effect's core
 *   changed as proposed upstream (`effect-upstream-fix.ts`, applied to a second bundle only), measured at
 *   `--size-mib` and, in a separate fresh process per integrity mode, at 4 × that size.
 * - The emulator runs without fsync (its default) unless `--emulator-fsync` (the ceiling's server does not fsync either).
 * - The client's checkpoints (fsync'ed, the default of `NodeCheckpointStore`) go to `--checkpoint-dir`, default a
 *   directory in /dev/shm when it exists: the emulator shares this machine's disk, and on ext4 (`data=ordered`)
 *   every client fsync would also write back the emulator's freshly written data, a cost a remote server never
 *   causes. `--checkpoint-dir` on a disk path shows that co-location cost.
 * - A second ceiling, in the same rounds: a copy of the reference scripts (in `.bench-tmp/`) whose one change is
 *   that pipeline.mjs reads each slice at offset 1024 of its buffer instead of 0. On some machines the kernel copies
 *   file data into a page-aligned buffer about 5 times slower than into any other alignment (the uploader's slice
 *   buffers start 1 KiB in: room for the multipart head); the run measures both alignments (`readProbe`) and
 *   reports our ratios to both ceilings.
 * - `--quick`: 64 MiB file, 2 runs, 64 MiB warm-up, RSS at 64 / 256 MiB: a smoke run, not a measurement.
 *
 * Prints a markdown table, then one JSON line with every figure.
 */
import * as Cos from "@cos-v4/slicer/Cos"
import * as Uploader from "@cos-v4/slicer/Uploader"
import type * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as NodeCos from "../src/NodeCos.js"
import * as NodeMemory from "../src/NodeMemory.js"
import * as NodeUploadSource from "../src/NodeUploadSource.js"
import { esbuildPlugin } from "./effect-upstream-fix.js"

const here = Path.dirname(fileURLToPath(import.meta.url))
const repoRoot = Path.resolve(here, "../../..")
const ceilingScript = Path.resolve(repoRoot, "../shared/bench-limits/pipeline.mjs")
/** The text of pipeline.mjs that allocates its slice buffers, and the same buffers read 1 KiB in. */
const sliceBufferText = "Buffer.allocUnsafe(SLICE))"
const sliceBufferOffset = "Buffer.allocUnsafe(SLICE + 1024).subarray(1024))"
const emulatorBin = Path.resolve(repoRoot, "packages/emulator/src/bin.ts")
const MiB = 1024 * 1024
const appId = "1250000000"
const bucket = "bench"
const secretId = "AKIDbench"
const secretKey = "bench-key"

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "size-mib": { type: "string" },
    runs: { type: "string" },
    "warmup-mib": { type: "string" },
    concurrency: { type: "string", default: "4" },
    "slice-mib": { type: "string", default: "1" },
    rounds: { type: "string", default: "1" },
    "no-ceiling": { type: "boolean", default: false },
    "no-rss": { type: "boolean", default: false },
    "emulator-fsync": { type: "boolean", default: false },
    "json-out": { type: "string" },
    "checkpoint-dir": { type: "string" },
    // client mode (internal)
    client: { type: "boolean", default: false },
    endpoint: { type: "string" },
    file: { type: "string" },
    integrity: { type: "string" },
    label: { type: "string" },
    "emulator-pid": { type: "string" },
    "bound-memory": { type: "boolean", default: false }
  }
})

const quick = values.quick === true
const sizeMiB = Number(values["size-mib"] ?? (quick ? 64 : 1024))
const runs = Number(values.runs ?? (quick ? 2 : 5))
const warmupMiB = Number(values["warmup-mib"] ?? (quick ? 64 : 2048))
const concurrency = Number(values.concurrency)
const sliceMiB = Number(values["slice-mib"])

interface Stats {
  readonly min: number
  readonly median: number
  readonly max: number
  readonly n: number
}

const stats = (xs: ReadonlyArray<number>): Stats => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { min: s[0] ?? NaN, median, max: s[s.length - 1] ?? NaN, n: s.length }
}

const vmHWMMiB = (): number => {
  const m = /VmHWM:\s+(\d+)/.exec(Fs.readFileSync("/proc/self/status", "latin1"))
  return m === null ? NaN : Number(m[1]) / 1024
}
const resetHWM = (): boolean => {
  try {
    Fs.writeFileSync("/proc/self/clear_refs", "5")
    return true
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------------------
// client mode: one process, warm-up then timed uploads, one JSON line on stdout

interface ClientRun {
  readonly mbps: number
  readonly seconds: number
  /** of `seconds`, the hashing pass before init (`receipt.hashingMillis`; 0 for inline) */
  readonly hashingSeconds: number
  readonly peakRssMiB: number
  readonly clientCpuPct: number
  readonly emulatorCpuPct: number
  readonly backgroundCpuPct: number
  readonly verifiedBy: string
  readonly requests: number
  readonly retries: number
}

const machineCpu = () => {
  const l = Fs.readFileSync("/proc/stat", "latin1").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
  return { total: l.reduce((a, b) => a + b, 0), idle: l[3]! + l[4]! }
}

/**
 * Waits (at most ~10 s) until other processes use less than `limitPct` % of a core over 300 ms, as
 * pipeline.mjs does; returns the last background CPU % seen (reported per run, to spot disturbed samples).
 */
const waitQuiet = async (limitPct = 15): Promise<number> => {
  let background = 0
  for (let k = 0; k < 20; k++) {
    const a = machineCpu()
    const c0 = process.cpuUsage()
    await new Promise((r) => setTimeout(r, 300))
    const b = machineCpu()
    const c = process.cpuUsage(c0)
    const busyPct = (1 - (b.idle - a.idle) / (b.total - a.total)) * 100 * Os.cpus().length
    background = busyPct - ((c.user + c.system) / 1e3 / 300) * 100
    if (background < limitPct) break
    await new Promise((r) => setTimeout(r, 200))
  }
  return background
}

/** CPU time (ms) used so far by another process, from /proc/<pid>/stat (utime + stime) */
const processCpuMs = (pid: number): number => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "latin1")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // USER_HZ = 100 on Linux
  } catch {
    return NaN
  }
}

const stampFile = (file: string, counter: number) => {
  const fd = Fs.openSync(file, "r+")
  try {
    const b = Buffer.alloc(8)
    b.writeDoubleLE(counter + Math.random())
    Fs.writeSync(fd, b, 0, 8, 0)
  } finally {
    Fs.closeSync(fd)
  }
}

const clientMain = async () => {
  if (values["bound-memory"] === true) NodeMemory.unsafeBound()
  const file = values.file!
  const integrity = values.integrity as UploadOptions.Integrity
  const size = Fs.statSync(file).size
  const checkpointDir = Fs.mkdtempSync(Path.join(values["checkpoint-dir"] ?? Os.tmpdir(), "cos-v4-bench-cp-"))
  const runtime = ManagedRuntime.make(NodeCos.layer({
    endpoint: values.endpoint!,
    appId,
    bucket,
    credentials: { secretId, secretKey: Redacted.make(secretKey) },
    checkpointDir,
    concurrency
  }))
  let counter = 0
  // each upload's file is removed right after it (untimed), as the ceiling's server drops its file when it exits:
  // no data is left to reach the disk (on this VM, disk writes made later page-cache writes 2-5 times as costly)
  let previous: string | undefined
  const removePrevious = async () => {
    if (previous !== undefined) await runtime.runPromise(Cos.remove(previous))
    previous = undefined
  }
  const upload = async () => {
    stampFile(file, counter++)
    const target = `/bench/${process.pid}-${counter}.bin`
    const emulatorPid = Number(values["emulator-pid"] ?? 0)
    const emu0 = processCpuMs(emulatorPid)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const receipt = await runtime.runPromise(
      Uploader.upload(NodeUploadSource.fromFile(file), target, {
        integrity,
        concurrency,
        sliceSize: sliceMiB * MiB,
        overwrite: true
      })
    )
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    const emulatorCpuMs = processCpuMs(emulatorPid) - emu0
    if (receipt.instant || receipt.fileSize !== size) throw new Error(`unexpected receipt ${JSON.stringify(receipt)}`)
    previous = target
    await removePrevious()
    return {
      mbps: size / 1e6 / seconds,
      seconds,
      hashingSeconds: receipt.hashingMillis / 1000,
      clientCpuPct: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
      emulatorCpuPct: (emulatorCpuMs / 1000 / seconds) * 100,
      verifiedBy: receipt.verifiedBy,
      requests: receipt.requests,
      retries: receipt.retries
    }
  }
  try {
    // the first upload of the fresh process (V8 has compiled little yet), then the rest of the warm-up
    const first = warmupMiB > 0 ? (await upload()).mbps : NaN
    for (let done = size; done < warmupMiB * MiB; done += size) await upload()
    const rows: Array<ClientRun> = []
    for (let i = 0; i < runs; i++) {
      const backgroundCpuPct = await waitQuiet()
      const hwmOk = resetHWM()
      const r = await upload()
      rows.push({ ...r, backgroundCpuPct, peakRssMiB: hwmOk ? vmHWMMiB() : process.memoryUsage().rss / MiB })
    }
    process.stdout.write(
      JSON.stringify({ label: values.label, integrity, sizeMiB: size / MiB, firstMbps: first, rows }) + "\n"
    )
    await removePrevious()
  } finally {
    await runtime.dispose()
    Fs.rmSync(checkpointDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------------------
// orchestrator

const run = (cmd: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(cmd, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (c: Buffer) => out += String(c))
    child.on("error", reject)
    child.on(
      "close",
      (code) => code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}`))
    )
  })

const lastJson = <A>(out: string): A => {
  const lines = out.trim().split("\n").filter((l) => l.startsWith("{"))
  return JSON.parse(lines[lines.length - 1]!) as A
}

const makeFile = (path: string, size: number) => {
  if (Fs.existsSync(path) && Fs.statSync(path).size === size) return
  const fd = Fs.openSync(path, "w")
  const block = Buffer.allocUnsafe(8 * MiB)
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) % 251
  try {
    for (let off = 0; off < size; off += block.length) {
      block.writeUInt32LE(off / block.length, 0)
      Fs.writeSync(fd, block, 0, Math.min(block.length, size - off), off)
    }
  } finally {
    Fs.closeSync(fd)
  }
}

/**
 * A copy of the reference scripts whose pipeline.mjs reads each slice 1 KiB into its buffer (`undefined` when the
 * allocation is not written as expected: then there is no second ceiling).
 */
const offsetCeilingScript = (): string | undefined => {
  const text = Fs.readFileSync(ceilingScript, "utf8")
  if (text.split(sliceBufferText).length !== 2) return undefined
  const dir = Path.join(repoRoot, ".bench-tmp", "bench-limits-offset")
  Fs.rmSync(dir, { recursive: true, force: true })
  Fs.mkdirSync(dir, { recursive: true })
  const from = Path.dirname(ceilingScript)
  for (const name of Fs.readdirSync(from)) {
    if (name.endsWith(".mjs")) Fs.copyFileSync(Path.join(from, name), Path.join(dir, name))
  }
  const script = Path.join(dir, "pipeline.mjs")
  Fs.writeFileSync(script, text.replace(sliceBufferText, sliceBufferOffset))
  return script
}

/** MB/s of `readSync` of 1 MiB slices of the (page-cached) file into a page-aligned buffer and 1 KiB into one. */
const readProbe = (path: string, bytes: number) => {
  const fd = Fs.openSync(path, "r")
  try {
    const base = new Uint8Array(2 * MiB) // large ArrayBuffers start on a page boundary
    const rate = (buffer: Uint8Array) => {
      const t0 = performance.now()
      for (let p = 0; p + MiB <= bytes; p += MiB) Fs.readSync(fd, buffer, 0, MiB, p)
      return bytes / 1e6 / ((performance.now() - t0) / 1000)
    }
    const aligned: Array<number> = []
    const offset: Array<number> = []
    for (let i = 0; i < 3; i++) {
      aligned.push(rate(base.subarray(0, MiB)))
      offset.push(rate(base.subarray(1024, 1024 + MiB)))
    }
    return { pageAlignedMbps: stats(aligned), offset1KiBMbps: stats(offset) }
  } finally {
    Fs.closeSync(fd)
  }
}

const warmCache = (path: string) => {
  const fd = Fs.openSync(path, "r")
  const buf = Buffer.allocUnsafe(8 * MiB)
  try {
    while (Fs.readSync(fd, buf, 0, buf.length, null) > 0) {
      // read through: the page cache now holds the file
    }
  } finally {
    Fs.closeSync(fd)
  }
}

const startEmulator = (dataDir: string) =>
  new Promise<{ readonly url: string; readonly pid: number; readonly stop: () => Promise<void> }>((resolve, reject) => {
    const args = [
      "--import",
      "tsx",
      emulatorBin,
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--appid",
      appId,
      "--bucket",
      bucket,
      "--credential",
      `${secretId}:${secretKey}`
    ]
    if (values["emulator-fsync"] === true) args.push("--fsync")
    const child = ChildProcess.spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (c: Buffer) => stderr += String(c))
    child.on("exit", (code) => reject(new Error(`emulator exited ${code}: ${stderr}`)))
    Readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^listening on (\S+)/.exec(line)
      if (m === null) return
      resolve({
        url: m[1]!,
        pid: child.pid!,
        stop: () =>
          new Promise((done) => {
            child.removeAllListeners("exit")
            child.once("exit", () => done())
            child.kill("SIGTERM")
          })
      })
    })
  })

interface ClientResult {
  readonly label: string
  readonly integrity: string
  readonly sizeMiB: number
  /** the first upload of the fresh process, before V8 has compiled the hot paths (NaN without warm-up) */
  readonly firstMbps: number
  readonly rows: ReadonlyArray<ClientRun>
}

interface CeilingResult {
  readonly mbps: Stats & { readonly runs?: number }
  readonly peakRssMiB: Stats
  readonly runs: ReadonlyArray<{ readonly mbps: number; readonly peakRssMiB: number }>
  readonly verified?: boolean
  readonly clientCpuPct: number
  readonly serverCpuPct: number
  readonly bgCpuPctMax?: number
}

let emulatorPid = 0
const checkpointParent = values["checkpoint-dir"] ?? (Fs.existsSync("/dev/shm") ? "/dev/shm" : Os.tmpdir())

/**
 * This file as one ES module for plain `node` (the client processes run it), built once per bench run and variant:
 * `published` bundles effect as installed, `effect-fix` with `effect-upstream-fix.ts` applied to its core.
 */
type ClientVariant = "published" | "effect-fix"
const clientBundles = new Map<ClientVariant, Promise<string>>()
const bundleClient = (variant: ClientVariant): Promise<string> => {
  const built = clientBundles.get(variant) ?? (async () => {
    const esbuild = await import("esbuild")
    const outfile = Path.join(
      Path.dirname(fileURLToPath(import.meta.url)),
      ".bundle",
      variant === "published" ? "upload-client.mjs" : "upload-client-effect-fix.mjs"
    )
    let sites = 0
    await esbuild.build({
      entryPoints: [fileURLToPath(import.meta.url)],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      external: ["esbuild", "better-sqlite3"],
      banner: {
        js:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
      },
      plugins: variant === "published" ? [] : [esbuildPlugin((n) => sites += n)],
      logLevel: "error"
    })
    if (variant === "effect-fix" && sites === 0) throw new Error("effect-upstream-fix: effect's core was not bundled")
    return outfile
  })()
  clientBundles.set(variant, built)
  return built
}

const runClient = async (
  endpoint: string,
  file: string,
  integrity: string,
  label: string,
  r: number,
  w: number,
  clientFlags: ReadonlyArray<string> = [],
  variant: ClientVariant = "published"
) =>
  lastJson<ClientResult>(
    await run(process.execPath, [
      await bundleClient(variant),
      ...clientFlags,
      "--client",
      "--endpoint",
      endpoint,
      "--file",
      file,
      "--integrity",
      integrity,
      "--label",
      label,
      "--runs",
      String(r),
      "--warmup-mib",
      String(w),
      "--concurrency",
      String(concurrency),
      "--slice-mib",
      String(sliceMiB),
      "--emulator-pid",
      String(emulatorPid),
      "--checkpoint-dir",
      checkpointParent
    ])
  )

const f0 = (x: number) => Number.isFinite(x) ? x.toFixed(0) : "–"
const f2 = (x: number) => Number.isFinite(x) ? x.toFixed(2) : "–"

const main = async () => {
  const work = Path.join(Os.tmpdir(), "cos-v4-bench")
  Fs.mkdirSync(work, { recursive: true })
  const file = Path.join(work, `upload-${sizeMiB}m.bin`)
  makeFile(file, sizeMiB * MiB)
  warmCache(file)
  const dataDir = Fs.mkdtempSync(Path.join(work, "emulator-"))
  const emulator = await startEmulator(dataDir)
  emulatorPid = emulator.pid
  const modes: ReadonlyArray<UploadOptions.Integrity> = ["inline", "sha-at-init"]
  const ceiling: Array<CeilingResult> = []
  const ceilingOffset: Array<CeilingResult> = []
  const ours: Record<string, Array<ClientRun>> = { inline: [], "sha-at-init": [] }
  const firsts: Record<string, Array<number>> = { inline: [], "sha-at-init": [] }
  const rss: Record<string, { readonly small: number; readonly large: number }> = {}
  const haveCeiling = values["no-ceiling"] !== true && Fs.existsSync(ceilingScript)
  if (!haveCeiling && values["no-ceiling"] !== true) {
    process.stderr.write(`ceiling skipped: ${ceilingScript} not found\n`)
  }
  const offsetScript = haveCeiling ? offsetCeilingScript() : undefined
  if (haveCeiling && offsetScript === undefined) {
    process.stderr.write(`second ceiling skipped: ${ceilingScript} does not allocate with ${sliceBufferText}\n`)
  }
  const probe = readProbe(file, Math.min(sizeMiB, 256) * MiB)
  const runCeiling = async (script: string) =>
    lastJson<CeilingResult>(
      await run(process.execPath, [
        script,
        "--server-mode",
        "mp-builtin-offset",
        "--file",
        file,
        "--size-mib",
        String(sizeMiB),
        "--slice-mib",
        String(sliceMiB),
        "--concurrency",
        String(concurrency),
        "--runs",
        String(runs),
        "--warmup-mib",
        String(warmupMiB),
        "--prealloc-mib",
        String(Math.max(1024, sizeMiB)),
        "--verify",
        "--keep",
        "--json"
      ])
    )
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      if (haveCeiling) {
        process.stderr.write(`round ${round + 1}: ceiling (pipeline.mjs mp-builtin-offset)\n`)
        ceiling.push(await runCeiling(ceilingScript))
      }
      if (offsetScript !== undefined) {
        process.stderr.write(`round ${round + 1}: ceiling, slices read 1 KiB into their buffers\n`)
        ceilingOffset.push(await runCeiling(offsetScript))
      }
      for (const mode of modes) {
        process.stderr.write(`round ${round + 1}: cos-v4 ${mode}\n`)
        const r = await runClient(emulator.url, file, mode, mode, runs, warmupMiB)
        ours[mode]!.push(...r.rows)
        firsts[mode]!.push(r.firstMbps)
      }
    }
    if (values["no-rss"] !== true) {
      const largeFile = Path.join(work, `upload-${4 * sizeMiB}m.bin`)
      makeFile(largeFile, 4 * sizeMiB * MiB)
      for (const mode of modes) {
        process.stderr.write(`peak RSS: ${mode} at ${sizeMiB} MiB and ${4 * sizeMiB} MiB\n`)
        warmCache(file)
        const small = await runClient(emulator.url, file, mode, `${mode}-rss`, 1, sizeMiB)
        warmCache(largeFile)
        const large = await runClient(emulator.url, largeFile, mode, `${mode}-rss4`, 1, sizeMiB)
        rss[mode] = { small: small.rows[0]!.peakRssMiB, large: large.rows[0]!.peakRssMiB }
      }
      // most of the rest is V8's heap grown far past its live size (young generation 2 × 16 MiB once grown, old
      // generation up to 4 × live): an app can bound both
      for (const mode of modes) {
        const bounded = ["--bound-memory"]
        process.stderr.write(`peak RSS: ${mode} with NodeMemory.bound()\n`)
        warmCache(file)
        const small = await runClient(emulator.url, file, mode, `${mode}-rss-bounded`, 1, sizeMiB, bounded)
        warmCache(largeFile)
        const large = await runClient(emulator.url, largeFile, mode, `${mode}-rss4-bounded`, 1, sizeMiB, bounded)
        rss[`${mode}, NodeMemory.bound()`] = {
          small: small.rows[0]!.peakRssMiB,
          large: large.rows[0]!.peakRssMiB
        }
      }
      // what remains with V8's defaults comes from effect's closures (effect-upstream-fix.ts): the same client with
      // the proposed upstream change
      for (const mode of modes) {
        process.stderr.write(`peak RSS: ${mode} with effect's upstream fix\n`)
        warmCache(file)
        const small = await runClient(emulator.url, file, mode, `${mode}-rss-fix`, 1, sizeMiB, [], "effect-fix")
        warmCache(largeFile)
        const large = await runClient(emulator.url, largeFile, mode, `${mode}-rss4-fix`, 1, sizeMiB, [], "effect-fix")
        rss[`${mode}, effect with the upstream fix`] = {
          small: small.rows[0]!.peakRssMiB,
          large: large.rows[0]!.peakRssMiB
        }
      }
      if (!quick) Fs.rmSync(largeFile, { force: true })
    }
  } finally {
    await emulator.stop()
    Fs.rmSync(dataDir, { recursive: true, force: true })
  }

  const ceilingRuns = ceiling.flatMap((c) => c.runs.map((r) => r.mbps))
  const ceilingStats = stats(ceilingRuns)
  const ceilingRss = stats(ceiling.flatMap((c) => c.runs.map((r) => r.peakRssMiB)))
  const offsetStats = stats(ceilingOffset.flatMap((c) => c.runs.map((r) => r.mbps)))
  // CPU time per MiB uploaded (ms) from a CPU % at a rate in MB/s: a figure that other load moves less than MB/s
  const msPerMiB = (cpuPct: number, mbps: number) => (cpuPct / 100) * (MiB / 1e6 / mbps) * 1000
  const ceilingCpu = (results: ReadonlyArray<CeilingResult>) =>
    results.length === 0 ? null : {
      client: stats(results.map((c) => msPerMiB(c.clientCpuPct, c.mbps.median))),
      server: stats(results.map((c) => msPerMiB(c.serverCpuPct, c.mbps.median))),
      total: stats(results.map((c) => msPerMiB(c.clientCpuPct + c.serverCpuPct, c.mbps.median)))
    }
  const lines: Array<string> = []
  lines.push(
    `Upload of a ${sizeMiB} MiB page-cached file, ${sliceMiB} MiB slices, ${concurrency} in flight, ${runs} timed runs ` +
      `per process after ${warmupMiB} MiB warm-up, ${Number(values.rounds)} round(s); MB = 10^6 bytes; ` +
      `${Os.cpus().length} CPUs, Node ${process.version}; client checkpoints in ${checkpointParent}` +
      `${quick ? " (QUICK smoke run)" : ""}`
  )
  lines.push("")
  lines.push(
    "| variant | MB/s min / **median** / max (n) | ratio to ceiling (median; to the second ceiling) | client peak RSS MiB (median) | client / server CPU % (median) | fresh process, first upload MB/s (median) |"
  )
  lines.push("|---|---|---|---|---|---|")
  if (ceiling.length > 0) {
    lines.push(
      `| ceiling: pipeline.mjs → server.mjs mp-builtin-offset | ${f0(ceilingStats.min)} / **${
        f0(ceilingStats.median)
      }** / ${f0(ceilingStats.max)} (${ceilingStats.n}) | 1.00 | ${f0(ceilingRss.median)} | ${
        f0(stats(ceiling.map((c) => c.clientCpuPct)).median)
      } / ${f0(stats(ceiling.map((c) => c.serverCpuPct)).median)} | – |`
    )
  }
  if (ceilingOffset.length > 0) {
    lines.push(
      `| ceiling, slices read 1 KiB into their buffers | ${f0(offsetStats.min)} / **${f0(offsetStats.median)}** / ${
        f0(offsetStats.max)
      } (${offsetStats.n}) | ${f2(offsetStats.median / ceilingStats.median)} | ${
        f0(stats(ceilingOffset.flatMap((c) => c.runs.map((r) => r.peakRssMiB))).median)
      } | ${f0(stats(ceilingOffset.map((c) => c.clientCpuPct)).median)} / ${
        f0(stats(ceilingOffset.map((c) => c.serverCpuPct)).median)
      } | – |`
    )
  }
  const summary: Record<string, unknown> = {}
  for (const mode of modes) {
    const rows = ours[mode]!
    const s = stats(rows.map((r) => r.mbps))
    const ratio = s.median / ceilingStats.median
    const r = stats(rows.map((x) => x.peakRssMiB))
    const cpu = stats(rows.map((x) => x.clientCpuPct))
    const emu = stats(rows.map((x) => x.emulatorCpuPct))
    const first = stats(firsts[mode]!)
    // sha-at-init runs in two phases, one after the other: the hashing pass, then the slices
    const hashed = rows.filter((x) => x.hashingSeconds > 0)
    const phases = hashed.length === 0 ? undefined : {
      hashingMbps: stats(hashed.map((x) => sizeMiB * MiB / 1e6 / x.hashingSeconds)),
      uploadPhaseMbps: stats(hashed.map((x) => sizeMiB * MiB / 1e6 / (x.seconds - x.hashingSeconds)))
    }
    summary[mode] = {
      mbps: s,
      ratio,
      ...(ceilingOffset.length === 0 ? {} : { ratioToOffsetCeiling: s.median / offsetStats.median }),
      peakRssMiB: r,
      clientCpuPct: cpu,
      emulatorCpuPct: emu,
      cpuMsPerMiB: {
        client: stats(rows.map((x) => msPerMiB(x.clientCpuPct, x.mbps))),
        server: stats(rows.map((x) => msPerMiB(x.emulatorCpuPct, x.mbps))),
        total: stats(rows.map((x) => msPerMiB(x.clientCpuPct + x.emulatorCpuPct, x.mbps)))
      },
      firstUploadMbps: first,
      firstUploadRatio: first.median / ceilingStats.median,
      ...(phases === undefined ? {} : {
        hashingMbps: phases.hashingMbps,
        uploadPhaseMbps: phases.uploadPhaseMbps,
        uploadPhaseRatio: phases.uploadPhaseMbps.median / ceilingStats.median,
        ...(ceilingOffset.length === 0 ? {} : {
          uploadPhaseRatioToOffsetCeiling: phases.uploadPhaseMbps.median / offsetStats.median
        })
      }),
      runs: rows
    }
    lines.push(
      `| cos-v4 ${mode} → emulator | ${f0(s.min)} / **${f0(s.median)}** / ${f0(s.max)} (${s.n}) | ${f2(ratio)}${
        ceilingOffset.length === 0 ? "" : ` (${f2(s.median / offsetStats.median)})`
      } | ${f0(r.median)} | ${f0(cpu.median)} / ${f0(emu.median)} | ${f0(first.median)} |`
    )
  }
  for (const mode of modes) {
    const o = summary[mode] as { hashingMbps?: Stats; uploadPhaseMbps?: Stats; uploadPhaseRatio?: number }
    if (o.hashingMbps === undefined || o.uploadPhaseMbps === undefined) continue
    lines.push("")
    lines.push(
      `${mode} phases (medians): hashing pass before init ${f0(o.hashingMbps.median)} MB/s, then the slices ` +
        `${f0(o.uploadPhaseMbps.median)} MB/s (${f2(o.uploadPhaseRatio ?? NaN)} of the ceiling)`
    )
  }
  lines.push("")
  lines.push(
    `readSync of 1 MiB slices of the cached file (MB/s, median of 3): into a page-aligned buffer ${
      f0(probe.pageAlignedMbps.median)
    }, 1 KiB into one ${f0(probe.offset1KiBMbps.median)}.`
  )
  const background = modes.flatMap((m) => ours[m]!.map((r) => r.backgroundCpuPct))
  lines.push("")
  lines.push(
    `Background CPU (other processes, % of a core) before the timed uploader runs: max ${
      f0(Math.max(...background))
    } %; ceiling: max ${f0(Math.max(...ceiling.map((c) => c.bgCpuPctMax ?? NaN)))} %.`
  )
  if (Object.keys(rss).length > 0) {
    lines.push("")
    lines.push(
      `| client peak RSS (fresh process, 1 timed run) | ${sizeMiB} MiB file | ${4 * sizeMiB} MiB file | growth |`
    )
    lines.push("|---|---|---|---|")
    for (const [mode, r] of Object.entries(rss)) {
      lines.push(
        `| ${mode} | ${f0(r.small)} MiB | ${f0(r.large)} MiB | ${((r.large / r.small - 1) * 100).toFixed(1)} % |`
      )
    }
  }
  console.log(lines.join("\n"))
  const json = {
    sizeMiB,
    sliceMiB,
    concurrency,
    runs,
    warmupMiB,
    rounds: Number(values.rounds),
    quick,
    checkpointDir: checkpointParent,
    node: process.version,
    cpus: Os.cpus().length,
    ceiling: ceiling.length > 0 ?
      { mbps: ceilingStats, peakRssMiB: ceilingRss, cpuMsPerMiB: ceilingCpu(ceiling), runs: ceiling } :
      null,
    ceilingOffset: ceilingOffset.length > 0 ?
      { mbps: offsetStats, cpuMsPerMiB: ceilingCpu(ceilingOffset), runs: ceilingOffset } :
      null,
    readProbe: probe,
    ours: summary,
    rss
  }
  console.log(JSON.stringify(json))
  if (values["json-out"] !== undefined) Fs.writeFileSync(values["json-out"], JSON.stringify(json, null, 2))
}
;(values.client === true ? clientMain() : main()).catch((e) => {
  console.error(e)
  process.exit(1)
})
