#!/usr/bin/env node
// A/B runner for the uploader hot path (not a test): per round, for each server kind, runs
// ../shared/bench-limits/pipeline.mjs (discard → server.mjs discard; emulator → server.mjs mp-builtin-offset
// --verify) and then each client variant as a fresh process (warm-up, then one timed run), reporting MB/s
// min/median/max, the ratio median(variant)/median(pipeline) and the paired ratio, and peak RSS.
//
//   node packages/slicer/bench/run.mjs --file F [--rounds 5] [--warmup-mib 2048] [--servers discard,emulator]
//     [--variants after:inline,after:sha-at-init] [--bundles /tmp/x/b] [--json OUT]
// A variant is BUNDLE:INTEGRITY, BUNDLE naming BUNDLES/BUNDLE/hot.mjs (made by bundle.sh).
import { execFileSync, spawn } from "node:child_process"
import crypto from "node:crypto"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import readline from "node:readline"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../../..")
const args = process.argv.slice(2)
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
const FILE = opt("file")
const ROUNDS = Number(opt("rounds", "5"))
const WARMUP = opt("warmup-mib", "2048")
const SERVERS = opt("servers", "discard,emulator").split(",")
const VARIANTS = opt("variants", "after:inline,after:sha-at-init").split(",")
const BUNDLES = opt("bundles", "/tmp/slicerbench/b")
const PIPELINE = path.resolve(root, "../shared/bench-limits/pipeline.mjs")
const SIZE_MIB = fs.statSync(FILE).size / 1048576
const say = (s) => process.stderr.write(`[run] ${s}\n`)

const sha = (() => {
  const h = crypto.createHash("sha1")
  const fd = fs.openSync(FILE, "r")
  const buf = Buffer.allocUnsafe(4 << 20)
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length)) > 0;) h.update(buf.subarray(0, n))
  fs.closeSync(fd)
  return h.digest("hex")
})()

const startServer = (cmd, argv) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: ["ignore", "pipe", "inherit"] })
    readline.createInterface({ input: child.stdout }).on("line", (l) => {
      const m = /listening on (\S+)/.exec(l)
      if (m) resolve({ child, url: m[1] })
    })
    child.once("exit", (c) => reject(new Error(`${cmd} exited ${c}`)))
  })

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "slicer-hot-emu-"))
const servers = {}
if (SERVERS.includes("discard")) {
  servers.discard = await startServer(process.execPath, [path.join(here, "discard-server.mjs"), "--sha", sha])
}
if (SERVERS.includes("emulator")) {
  servers.emulator = await startServer(path.join(root, "node_modules/.bin/tsx"), [
    "packages/emulator/src/bin.ts",
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--auth",
    "off",
    "--bucket",
    "bkt",
    "--appid",
    "1250000000"
  ])
}
const run = (cmd, argv) => {
  const out = execFileSync(cmd, argv, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
  return JSON.parse(out.trim().split("\n").pop())
}
const samples = {} // key → [{mbps, rss, paired}]
const push = (k, v) => (samples[k] ??= []).push(v)
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of SERVERS) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length])
    for (const variant of order) {
      const ref = run(process.execPath, [
        PIPELINE,
        "--file",
        FILE,
        "--size-mib",
        String(SIZE_MIB),
        "--runs",
        "1",
        "--warmup-mib",
        WARMUP,
        "--json",
        "--keep",
        ...(kind === "emulator" ? ["--server-mode", "mp-builtin-offset", "--verify"] : [])
      ])
      const p = ref.runs[0]
      push(`${kind} pipeline`, {
        mbps: p.mbps,
        rss: p.peakRssMiB,
        paired: 1,
        cpu: +(p.clientCpuPct * 10 / p.mbps).toFixed(3)
      })
      const [bundle, integrity] = variant.split(":")
      const mine = run(process.execPath, [
        path.join(BUNDLES, bundle, "hot.mjs"),
        "--endpoint",
        servers[kind].url,
        "--file",
        FILE,
        "--integrity",
        integrity,
        "--runs",
        "1",
        "--warmup-mib",
        WARMUP,
        "--json"
      ])
      const m = mine.runs[0]
      push(`${kind} ${variant}`, { mbps: m.mbps, rss: m.peakRssMiB, paired: m.mbps / p.mbps, cpu: m.cpuMsPerMB })
      say(
        `round ${r} ${kind} pipeline ${p.mbps} MB/s (${
          (p.clientCpuPct * 10 / p.mbps).toFixed(3)
        } ms/MB, bg ${p.bgCpuPct}%) | ${variant} ${m.mbps} MB/s (${m.cpuMsPerMB} ms/MB, bg ${m.bgCpuPct}%) rss ${m.peakRssMiB} MiB${
          m.instant ? " INSTANT" : ""
        } | load ${os.loadavg()[0].toFixed(1)}`
      )
    }
  }
}
for (const s of Object.values(servers)) s.child.kill("SIGTERM")
fs.rmSync(dataDir, { recursive: true, force: true })

const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, max: s[s.length - 1], n: s.length }
}
const rows = []
for (const [key, xs] of Object.entries(samples)) {
  const kind = key.split(" ")[0]
  const ref = stat(samples[`${kind} pipeline`].map((x) => x.mbps)).median
  const mb = stat(xs.map((x) => x.mbps))
  rows.push({
    key,
    mbps: mb,
    ratio: +(mb.median / ref).toFixed(2),
    paired: +stat(xs.map((x) => x.paired)).median.toFixed(2),
    rss: stat(xs.map((x) => x.rss)),
    cpuMsPerMB: xs[0].cpu === undefined ? undefined : stat(xs.map((x) => x.cpu)).median
  })
}
for (const r of rows) {
  console.log(
    `${r.key.padEnd(32)} ${r.mbps.min.toFixed(0)} / ${r.mbps.median.toFixed(0)} / ${
      r.mbps.max.toFixed(0)
    } MB/s (n=${r.mbps.n})  ratio ${r.ratio} (paired ${r.paired})  rss med ${r.rss.median} max ${r.rss.max} MiB${
      r.cpuMsPerMB === undefined ? "" : `  cpu ${r.cpuMsPerMB} ms/MB`
    }`
  )
}
if (opt("json")) {
  fs.writeFileSync(
    opt("json"),
    JSON.stringify({ file: FILE, sizeMiB: SIZE_MIB, warmupMiB: WARMUP, rows, samples }, null, 1)
  )
}
