// Quick server-throughput comparison: the emulator vs ../../shared/bench-limits/server.mjs (mp-builtin-offset),
// same client (node:http keep-alive, multipart bodies written as pieces, 1 MiB slices, 4 in flight, slices from
// one in-memory buffer, no client-side hashing).
// Usage: node packages/emulator/bench/throughput.mjs [--size-mib 256] [--runs 3] [--fsync] [--reference PATH]
//        [--settle S] [--resend] [--emulator-flags "--flag value ..."]
import { spawn } from "node:child_process"
import crypto from "node:crypto"
import fs from "node:fs"
import http from "node:http"
import os from "node:os"
import path from "node:path"
import readline from "node:readline"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
const SIZE = Number(opt("size-mib", 256)) * 1048576
const SLICE = 1048576
const CONC = 4
const RUNS = Number(opt("runs", 3))
const REF = opt("reference", path.resolve(here, "../../../../shared/bench-limits/server.mjs"))
const data = crypto.randomBytes(SLICE)
const agent = new http.Agent({ keepAlive: true, maxSockets: CONC })
const B = "----bench" + crypto.randomBytes(6).toString("hex")

const field = (n, v) => `--${B}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`
const post = (port, p, parts) =>
  new Promise((resolve, reject) => {
    const len = parts.reduce((n, b) => n + b.length, 0)
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: p,
      method: "POST",
      agent,
      headers: {
        "content-type": `multipart/form-data; boundary=${B}`,
        "content-length": len
      }
    }, (res) => {
      let s = ""
      res.setEncoding("utf8")
      res.on("data", (c) => (s += c))
      res.on("end", () => resolve(JSON.parse(s)))
    })
    req.on("error", reject)
    for (const b of parts) req.write(b)
    req.end()
  })

async function pump(send) {
  const n = Math.ceil(SIZE / SLICE)
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      const off = i * SLICE
      const r = await send(off, data.subarray(0, Math.min(SLICE, SIZE - off)))
      if (r.code !== undefined && r.code !== 0) throw new Error(JSON.stringify(r))
    }
  }
  await Promise.all(Array.from({ length: CONC }, worker))
}

// --resend: every timed run re-sends all slices of one open session (idempotent re-sends into pages the page cache
// already holds), isolating the request path from the VM's cost of supplying fresh page-cache memory
const RESEND = args.includes("--resend")
let resendSession
async function runResend(port) {
  const p = "/files/v2/1250000000/bkt/bench/resend.bin"
  if (resendSession === undefined) {
    const init = await post(port, p, [
      Buffer.from(
        field("op", "upload_slice_init") + field("filesize", SIZE) + field("slice_size", SLICE) +
          field("insertOnly", 0) + `--${B}--\r\n`
      )
    ])
    resendSession = init.data.session
  }
  const t0 = process.hrtime.bigint()
  await pump((off, d) =>
    post(port, p, [
      Buffer.from(
        field("op", "upload_slice_data") + field("session", resendSession) + field("offset", off) +
          `--${B}\r\nContent-Disposition: form-data; name="filecontent"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`
      ),
      d,
      Buffer.from(`\r\n--${B}--\r\n`)
    ])
  )
  return SIZE / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9)
}
let last
async function runEmulator(port, k) {
  if (RESEND) return runResend(port)
  // like the reference's /reset: drop the previous run's file right before this run
  if (last !== undefined) await post(port, last, [Buffer.from(field("op", "delete") + `--${B}--\r\n`)])
  const p = `/files/v2/1250000000/bkt/bench/f${k}-${Date.now()}.bin`
  const init = await post(port, p, [
    Buffer.from(
      field("op", "upload_slice_init") + field("filesize", SIZE) + field("slice_size", SLICE) + field("insertOnly", 0) +
        `--${B}--\r\n`
    )
  ])
  const session = init.data.session
  const t0 = process.hrtime.bigint()
  await pump((off, d) =>
    post(port, p, [
      Buffer.from(
        field("op", "upload_slice_data") + field("session", session) + field("offset", off) +
          `--${B}\r\nContent-Disposition: form-data; name="filecontent"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`
      ),
      d,
      Buffer.from(`\r\n--${B}--\r\n`)
    ])
  )
  const t1 = process.hrtime.bigint()
  const fin = await post(port, p, [
    Buffer.from(
      field("op", "upload_slice_finish") + field("session", session) + field("filesize", SIZE) + `--${B}--\r\n`
    )
  ])
  if (fin.code !== 0) throw new Error(JSON.stringify(fin))
  last = p
  return SIZE / 1e6 / (Number(t1 - t0) / 1e9)
}

async function runReference(port) {
  await new Promise((resolve) =>
    http.request({ host: "127.0.0.1", port, path: "/reset", method: "POST", agent }, (r) => {
      r.resume()
      r.on("end", resolve)
    }).end()
  )
  const t0 = process.hrtime.bigint()
  await pump((off, d) =>
    post(port, `/upload?offset=${off}`, [
      Buffer.from(field("offset", off) + `--${B}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n`),
      d,
      Buffer.from(`\r\n--${B}--\r\n`)
    ])
  )
  return SIZE / 1e6 / (Number(t1(t0)) / 1e9)
}
const t1 = (t0) => process.hrtime.bigint() - t0

const start = (cmd, argv, parse) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] })
    readline.createInterface({ input: child.stdout }).once("line", (l) => resolve({ child, port: parse(l) }))
    child.once("exit", (c) => reject(new Error(`exited ${c}`)))
  })
const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1].split(" ")
  return (Number(f[11]) + Number(f[12])) * 10
}
const sysMs = (pid) => Number(fs.readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1].split(" ")[12]) * 10
const rss = (pid) => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "latin1"))[1]) / 1024

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-bench-"))
const emuArgs = [path.resolve(here, "../src/bin.ts"), "--data-dir", dataDir, "--port", "0"]
if (args.includes("--fsync")) emuArgs.push("--fsync")
emuArgs.push(...opt("emulator-flags", "").split(" ").filter(Boolean))
// one process (no tsx launcher), so that the RSS below is the emulator's
const emu = await start(process.execPath, ["--import", "tsx", ...emuArgs], (l) => Number(l.split(":").pop()))
const ref = await start(process.execPath, [
  REF,
  "--mode",
  "mp-builtin-offset",
  "--prealloc-mib",
  String(SIZE / 1048576)
], (l) => JSON.parse(l).port)
const result = { emulator: [], reference: [], emulatorCpu: [], referenceCpu: [] }
const sys = { emulator: [], reference: [] }
const timed = async (pid, cpuList, f) => {
  const c0 = cpuMs(pid)
  const s0 = sysMs(pid)
  const v = await f()
  cpuList.push((cpuMs(pid) - c0) / (SIZE / SLICE))
  ;(cpuList === result.emulatorCpu ? sys.emulator : sys.reference).push((sysMs(pid) - s0) / (SIZE / SLICE))
  return v
}
await runEmulator(emu.port, "warm")
await runReference(ref.port)
// --settle S: wait S seconds before each timed run so that both servers write into memory the VM must supply
// afresh (this VM returns freed pages to the host after ~3 s, perf-limits.md §2b)
const SETTLE = Number(opt("settle", 0)) * 1000
const settle = () => new Promise((r) => setTimeout(r, SETTLE))
for (let k = 0; k < RUNS; k++) {
  await settle()
  result.reference.push(await timed(ref.child.pid, result.referenceCpu, () => runReference(ref.port)))
  await settle()
  result.emulator.push(await timed(emu.child.pid, result.emulatorCpu, () => runEmulator(emu.port, k)))
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
process.stdout.write(
  JSON.stringify({
    sizeMiB: SIZE / 1048576,
    runs: RUNS,
    settleS: SETTLE / 1000,
    fsync: args.includes("--fsync"),
    emulatorMBps: result.emulator.map((x) => +x.toFixed(0)),
    referenceMBps: result.reference.map((x) => +x.toFixed(0)),
    ratio: +(med(result.emulator) / med(result.reference)).toFixed(2),
    // server CPU (user+sys, all threads) per slice, ms; includes the finish hashing for the emulator
    emulatorCpuMsPerSlice: +med(result.emulatorCpu).toFixed(2),
    referenceCpuMsPerSlice: +med(result.referenceCpu).toFixed(2),
    emulatorCpuMsPerSliceRuns: result.emulatorCpu.map((x) => +x.toFixed(2)),
    referenceCpuMsPerSliceRuns: result.referenceCpu.map((x) => +x.toFixed(2)),
    emulatorSysMsPerSlice: +med(sys.emulator).toFixed(2),
    referenceSysMsPerSlice: +med(sys.reference).toFixed(2),
    emulatorPeakRssMiB: +rss(emu.child.pid).toFixed(0)
  }) + "\n"
)
emu.child.kill("SIGTERM")
ref.child.kill("SIGTERM")
agent.destroy()
fs.rmSync(dataDir, { recursive: true, force: true })
