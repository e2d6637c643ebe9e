#!/usr/bin/env node
// `pnpm bench`: runs the whole benchmark suite and rewrites docs/benchmarks.md. Benchmarks are not tests: nothing
// here runs in `pnpm test`.
//
//   node scripts/bench.mjs [--quick] [--only sha1,emulator,resume,uploader] [--out FILE] [--timeout-min N]
//
// --timeout-min overrides every step's time limit (defaults: 4–12 min per step); a step past its limit is stopped
// with its whole process group and reported as failed.
//
// Steps (each a separate process whose stdout is, or ends with a line of, JSON; raw results go to
// .bench-tmp/<step>.json):
//   sha1      packages/core/bench/sha1.bench.mjs (tsx): SHA-1 implementations vs node:crypto, same process.
//   emulator  packages/emulator/bench/emulator.bench.mjs: the emulator (minimal v4 client) vs
//             ../shared/bench-limits/pipeline.mjs → server.mjs mp-builtin-offset, alternating, same run.
//   resume    packages/emulator/bench/resume.bench.mjs: resume after a SIGKILLed client, instant upload.
//   uploader  packages/node/bench/upload.bench.ts (tsx), when present: our uploader vs pipeline.mjs.
// The full suite targets < 15 minutes on a 2-core machine; --quick is a smoke run (smaller files, fewer runs) that
// writes .bench-tmp/benchmarks.quick.md instead of docs/benchmarks.md (unless --out is given).
// The reference scripts are expected at ../shared/bench-limits/ (beside the repository); without them the
// reference rows are skipped with a note.
import { execFileSync, spawn } from "node:child_process"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
const QUICK = args.includes("--quick")
const ONLY = opt("only", "sha1,emulator,resume,uploader").split(",")
const TMP = path.join(root, ".bench-tmp")
const OUT = path.resolve(root, opt("out", QUICK ? ".bench-tmp/benchmarks.quick.md" : "docs/benchmarks.md"))
const REF_DIR = path.resolve(root, "../shared/bench-limits")
const TSX = path.join(root, "node_modules/.bin/tsx")
const say = (s) => process.stderr.write(`[bench] ${s}\n`)
fs.mkdirSync(TMP, { recursive: true })

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(" ")
const sh = (cmd, argv) => {
  try {
    return execFileSync(cmd, argv, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return undefined
  }
}

// ---- the steps ----
const uploaderBench = path.join(root, "packages/node/bench/upload.bench.ts")
const STEPS = {
  sha1: {
    title: "SHA-1",
    cmd: [TSX, "packages/core/bench/sha1.bench.mjs", "--json", `--size-mib=${QUICK ? 64 : 512}`, "--runs=5"],
    timeoutMin: 5
  },
  emulator: {
    title: "emulator throughput",
    cmd: [
      process.execPath,
      "packages/emulator/bench/emulator.bench.mjs",
      "--json",
      ...(QUICK
        ? ["--size-mib", "256", "--runs", "3", "--warmup-mib", "256", "--ref-warmup-mib", "256"]
        : ["--size-mib", "1024", "--runs", "7", "--warmup-mib", "2048", "--ref-warmup-mib", "1024"]),
      "--variants",
      QUICK ? "default" : "default,fsync",
      "--max-attempts",
      QUICK ? "1" : "3",
      "--budget-sec",
      "200",
      "--deadline-sec",
      "360"
    ],
    timeoutMin: 10
  },
  resume: {
    title: "resume and instant upload",
    cmd: [
      process.execPath,
      "packages/emulator/bench/resume.bench.mjs",
      "--json",
      ...(QUICK ? ["--size-mib", "64", "--runs", "3"] : ["--size-mib", "256", "--runs", "5"])
    ],
    timeoutMin: 4
  },
  uploader: {
    title: "uploader",
    // one timed run per process and 5 rounds, so that ceiling and uploader samples alternate; 4 GiB of warm-up
    // per process for steady state (V8 keeps compiling the Effect code paths for the first GiBs; pipeline.mjs
    // recommends 4096 for its own steady state), the first upload of each process reported on its own
    cmd: [
      TSX,
      "packages/node/bench/upload.bench.ts",
      ...(QUICK ? ["--quick"] : ["--rounds", "5", "--runs", "1", "--warmup-mib", "4096"]),
      "--json-out",
      path.join(TMP, "uploader.raw.json")
    ],
    timeoutMin: 20,
    skip: fs.existsSync(uploaderBench) ? undefined : "packages/node/bench/upload.bench.ts does not exist yet"
  }
}

// the running step's process group: SIGTERM, then SIGKILL for what is left after 5 s
const stopGroup = (child) => {
  const kill = (sig) => {
    try {
      process.kill(-child.pid, sig)
    } catch {
      // already gone
    }
  }
  kill("SIGTERM")
  setTimeout(() => kill("SIGKILL"), 5000)
}
let current
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.once(sig, () => {
    if (current !== undefined && current.exitCode === null && current.signalCode === null) {
      try {
        process.kill(-current.pid, "SIGTERM")
      } catch {
        // already gone
      }
    }
    process.exit(130)
  })
}

function runStep(id) {
  const step = STEPS[id]
  return new Promise((resolve) => {
    const t0 = Date.now()
    say(`${id}: ${step.cmd.map((a) => path.relative(root, a) || a).join(" ")}`)
    // own process group, so that a timeout stops the step's whole tree (servers, emulators, clients) it started
    const child = spawn(step.cmd[0], step.cmd.slice(1), {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      detached: true
    })
    current = child
    let out = ""
    child.stdout.on("data", (c) => {
      out += c
    })
    const timer = setTimeout(() => {
      say(`${id}: timed out after ${opt("timeout-min", step.timeoutMin)} min, stopping it`)
      stopGroup(child)
    }, Number(opt("timeout-min", step.timeoutMin)) * 60_000)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      const sec = Math.round((Date.now() - t0) / 1000)
      let json
      const text = out.trim()
      try {
        json = JSON.parse(text)
      } catch {
        try {
          json = JSON.parse(text.split("\n").pop())
        } catch {
          json = undefined
        }
      }
      const error = code === 0 && json !== undefined
        ? undefined
        : `exited ${code ?? signal}${json === undefined ? ", no JSON on stdout" : ""}`
      fs.writeFileSync(path.join(TMP, `${id}.json`), JSON.stringify({ id, sec, error, result: json }, null, 1))
      say(`${id}: ${error ?? "ok"} in ${sec} s`)
      resolve({ id, sec, error, result: json })
    })
  })
}

// ---- rendering ----
const n0 = (x) => (x === undefined || x === null ? "–" : Number(x).toFixed(0))
const n1 = (x) => (x === undefined || x === null ? "–" : Number(x).toFixed(1))
const n2 = (x) => (x === undefined || x === null ? "–" : Number(x).toFixed(2))
const mmm = (s, f = n0) => (s === undefined ? "– | – | –" : `${f(s.min)} | ${f(s.median)} | ${f(s.max)}`)
const ratio = (x) => (x === undefined || x === null ? "–" : `${Number(x).toFixed(2)}×`)

function renderSha1(r) {
  const lines = [
    `SHA-1 over ${r.sizeMiB} MiB in memory, fed in ${r.chunkBytes / 1024} KiB chunks, one core; each implementation ` +
    `runs its ${r.results[0]?.runs ?? "?"} timed runs after a correctness check, node:crypto first, in the same ` +
    "process (MB = 10^6 bytes).",
    "",
    "| implementation | n | MB/s min | MB/s median | MB/s max | median vs node:crypto (same run) |",
    "|---|---:|---:|---:|---:|---:|"
  ]
  for (const x of r.results) {
    lines.push(
      `| ${x.name} | ${x.runs} | ${x.minMBps} | ${x.medianMBps} | ${x.maxMBps} | ${ratio(x.vsNodeCrypto)} |`
    )
  }
  return lines
}

function renderEmulator(r) {
  const lines = [
    `${r.sizeMiB} MiB file in the page cache, ${r.sliceMiB} MiB slices, ${r.concurrency} in flight, SHA-1 in the ` +
    `client; ${r.runs} timed runs per row after ${r.warmupMiB} MiB of untimed uploads per server, reference and ` +
    "emulator alternating (order rotated each round). Each server's file is dropped right after its sample, so " +
    "that no data reaches the disk: on this VM, disk writes made page-cache writes for seconds afterwards 2-5 " +
    "times as expensive, whichever server came next. For the same reason `--fsync` runs in a phase of its own, " +
    "after the defaults, with its own reference samples. Ratio = emulator median / reference median of this run; " +
    "\"paired\" = min/median/max of the per-round ratios. CPU ms per MiB = the server process's CPU time " +
    "(all threads) per MiB uploaded: a figure that depends less on the other load of the machine.",
    ""
  ]
  if (r.note) lines.push(`> ${r.note}`, "")
  lines.push(
    "| what | n | MB/s min | MB/s median | MB/s max | ratio to reference | paired ratio min/med/max | server peak RSS MiB min/med/max | server CPU % (median) | server CPU ms per MiB (median) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  )
  // CPU time per MiB of each sample (CPU % at that sample's MB/s): a figure that other load on the machine moves less
  const msPerMiB = (samples) => {
    const xs = (samples ?? []).map((s) => (s.serverCpuPct / 100) / (s.mbps / 1.048576) * 1000).sort((a, b) => a - b)
    if (xs.length === 0) return "–"
    const m = xs.length >> 1
    return (xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2).toFixed(2)
  }
  if (r.reference) {
    lines.push(
      `| reference: pipeline.mjs → server.mjs \`mp-builtin-offset\` | ${r.reference.mbps.n} | ${
        mmm(r.reference.mbps)
      } ` +
        `| 1.00× | – | – | ${n0(r.reference.serverCpuPct.median)} | ${msPerMiB(r.reference.samples)} |`
    )
  }
  if (r.referenceSha1) {
    lines.push(
      `| reference server that also SHA-1s each slice: \`mp-builtin-offset --slice-sha1\` | ${r.referenceSha1.mbps.n} | ${
        mmm(r.referenceSha1.mbps)
      } | ${ratio(r.referenceSha1.ratio)} | – | – | ${n0(r.referenceSha1.serverCpuPct.median)} | ${
        msPerMiB(r.referenceSha1.samples)
      } |`
    )
  }
  for (const e of r.emulator) {
    const name = `emulator${e.flags.length ? ` \`${e.flags.join(" ")}\`` : " (defaults)"}`
    const rss = e.peakRssMiB ? mmm(e.peakRssMiB).replaceAll(" | ", " / ") : "–"
    const paired = e.pairedRatio
      ? `${e.pairedRatio.min.toFixed(2)} / ${e.pairedRatio.median.toFixed(2)} / ${e.pairedRatio.max.toFixed(2)}`
      : "–"
    lines.push(
      `| **${name}, slices** | ${e.mbps.n} | ${mmm(e.mbps)} | **${ratio(e.ratio)}** | ${paired} | ${rss} | ` +
        `${n0(e.serverCpuPct.median)} | – |`,
      `| ${name}, init → finish acknowledged | ${e.mbpsTotal.n} | ${mmm(e.mbpsTotal)} | ${ratio(e.ratioTotal)} | – | ` +
        `max incl. warm-up ${n0(e.lifetimePeakRssMiB)}, idle after start ${n0(e.idleRssMiB)} | – | ${
          msPerMiB(e.samples?.map((x) => ({ serverCpuPct: x.serverCpuPct, mbps: x.mbpsTotal })))
        } |`
    )
  }
  lines.push("")
  for (const e of r.emulator) {
    if (e.flags.length > 0 && e.referenceMbps) {
      lines.push(
        `- emulator ${e.flags.join(" ")}: its ratios are to the reference samples of its own phase ` +
          `(${mmm(e.referenceMbps).replaceAll(" | ", " / ")} MB/s, min / median / max).`
      )
    }
    const goal = e.ratio === undefined ? "no reference" : e.ratio >= 0.8 ? "met" : "**not met**"
    lines.push(
      `- emulator${e.flags.length ? ` ${e.flags.join(" ")}` : " (defaults)"}: goal ≥ 0.8× of the reference: ${goal}` +
        ` (${ratio(e.ratio)})` +
        (e.ratioToSha1Reference === undefined
          ? ""
          : `; ${ratio(e.ratioToSha1Reference)} of the reference server that also computes SHA-1`) +
        `; finish (the emulator's SHA-1 of the assembled file) took ` +
        `${n0(e.finishMs.median)} ms median; every run's \`stat\` sha matched the client's: ${e.verified}` +
        (e.disturbed ? `; ${e.disturbed} sample(s) disturbed by other load` : "") + "."
    )
  }
  if (r.reference?.disturbed) lines.push(`- reference: ${r.reference.disturbed} sample(s) disturbed by other load.`)
  if (r.referenceSha1) {
    lines.push(
      "- The goal's reference server does no SHA-1. A verifying server must hash every byte (the emulator checks " +
        "the `sha` and `uploadparts` at finish); on these 2 cores that alone costs ~0.55 ms of CPU per 1 MiB slice. " +
        "The `--slice-sha1` row is the same hand-written server doing that work."
    )
  }
  lines.push(
    "- The emulator runs its TypeScript through `node --import tsx`; the tsx loader is part of every emulator RSS " +
      "figure (idle `node`: see the Machine section)."
  )
  return lines
}

function renderResume(r) {
  const lines = [
    `${r.sizeMiB} MiB file, the minimal v4 client (packages/emulator/bench/v4client.mjs) as a fresh process per ` +
    `upload against the emulator (defaults, \`--auth off\`); ${r.runs} timed rounds after one untimed round. ` +
    "Times are wall-clock from the client's spawn (Node start-up included). The kill comes once half of the slices " +
    `are acknowledged (${n0(r.killedAckedMiB.median)} MiB); the rerun lists the session's slices ` +
    `(${n0(r.resume.slicesSkipped.median)} of ${r.sizeMiB} found, median), re-reads and re-hashes them in order ` +
    "for the whole-file SHA-1, and sends the rest.",
    "",
    "| what | n | ms min | ms median | ms max | ratio (same run) |",
    "|---|---:|---:|---:|---:|---:|",
    `| fresh upload: first slice acknowledged | ${r.fresh.firstAckMs.n} | ${mmm(r.fresh.firstAckMs)} | 1.00× |`,
    `| fresh upload: total (reference) | ${r.fresh.totalMs.n} | ${mmm(r.fresh.totalMs)} | 1.00× |`,
    `| **resume after SIGKILL at ~50 %: first new slice acknowledged** | ${r.resume.firstNewAckMs.n} | ` +
    `${mmm(r.resume.firstNewAckMs)} | ${ratio(r.resume.ratioFirstAck)} of fresh first ack |`,
    `| **resume after SIGKILL at ~50 %: total** | ${r.resume.totalMs.n} | ${mmm(r.resume.totalMs)} | ` +
    `${ratio(r.resume.ratioTotal)} of fresh total |`,
    `| instant upload: SHA-1 of the file | ${r.instant.hashMs.n} | ${mmm(r.instant.hashMs)} | – |`,
    `| instant upload: upload_slice_init round trip | ${r.instant.initMs.n} | ${mmm(r.instant.initMs, n1)} | – |`,
    `| **instant upload: total (hash + init → access info)** | ${r.instant.totalMs.n} | ${mmm(r.instant.totalMs)} | ` +
    `${ratio(r.instant.ratioTotal)} of fresh total |`
  ]
  return lines
}

function renderUploader(r) {
  if (r.ours === undefined) return renderGeneric(r)
  const modes = Object.keys(r.ours)
  const lines = [
    `Our uploader (\`@cos-v4/node\`, one fresh client process per sample) uploading a ${r.sizeMiB} MiB page-cached ` +
    `file, ${r.sliceMiB} MiB slices, ${r.concurrency} in flight, to the emulator (separate process, without fsync ` +
    "like the reference server); ceiling = `pipeline.mjs --server-mode mp-builtin-offset` on the same file. " +
    `${r.rounds} round(s) × ${r.runs} timed run(s) per process after ${r.warmupMiB} MiB of warm-up` +
    `${r.rounds > 1 ? ", ceiling and uploader processes alternating" : ""}. Source: ` +
    "`packages/node/bench/upload.bench.ts`; the client process runs that file bundled by esbuild under plain " +
    "`node` (as an app ships the library), the emulator under tsx. V8 keeps compiling the Effect code paths " +
    "during a process's first GiBs, so the rows are steady state; the last column is the first upload of each " +
    "fresh process (before its warm-up), the speed a one-off `cos upload` of such a file sees.",
    "",
    ...(r.ceilingOffset
      ? [
        "The second ceiling is the same reference with one line changed in a copy: pipeline.mjs reads each slice " +
        "1 KiB into its buffer instead of at its start (our uploader's slice buffers start 1 KiB in, room for the " +
        "multipart head). On some machines the kernel copies file data into a page-aligned buffer several times " +
        "slower than at any other alignment; this run's probe (`readSync` of 1 MiB slices of the cached file): " +
        `${n0(r.readProbe?.pageAlignedMbps?.median)} MB/s page-aligned, ` +
        `${n0(r.readProbe?.offset1KiBMbps?.median)} MB/s 1 KiB in. Where the two differ, the reference as given ` +
        "is not a ceiling, and the ratio to the second one is the figure to judge by.",
        ""
      ]
      : []),
    "| what | n | MB/s min | MB/s median | MB/s max | ratio to ceiling (median) | ratio to the second ceiling | goal | client peak RSS MiB (median) | fresh process, first upload: MB/s (ratio), median |",
    "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
  ]
  const second = r.ceilingOffset?.mbps.median
  if (r.ceiling) {
    lines.push(
      `| ceiling: pipeline.mjs → server.mjs \`mp-builtin-offset\` | ${r.ceiling.mbps.n} | ${mmm(r.ceiling.mbps)} | ` +
        `1.00× | ${second ? ratio(r.ceiling.mbps.median / second) : "–"} | – | ${n0(r.ceiling.peakRssMiB.median)} | – |`
    )
  }
  if (r.ceilingOffset) {
    lines.push(
      `| second ceiling: the same, slices read 1 KiB into their buffers | ${r.ceilingOffset.mbps.n} | ` +
        `${mmm(r.ceilingOffset.mbps)} | ${ratio(second / r.ceiling.mbps.median)} | 1.00× | – | – | – |`
    )
  }
  if (!r.ceiling) lines.push("", "> No ceiling (../shared/bench-limits/pipeline.mjs missing): ratios skipped.", "")
  const goals = { inline: 0.8, "sha-at-init": 0.6 }
  for (const m of modes) {
    const o = r.ours[m]
    const g = goals[m]
    const verdict = (x) => (x >= g ? "met" : "**not met**")
    const met = o.ratio === undefined || o.ratio === null || !r.ceiling || g === undefined
      ? "–"
      : `≥ ${g}×: ${verdict(o.ratio)}` +
        (o.ratioToOffsetCeiling ? `; to the second ceiling: ${verdict(o.ratioToOffsetCeiling)}` : "")
    lines.push(
      `| **cos-v4 ${m} → emulator** | ${o.mbps.n} | ${mmm(o.mbps)} | **${r.ceiling ? ratio(o.ratio) : "–"}** | **${
        o.ratioToOffsetCeiling ? ratio(o.ratioToOffsetCeiling) : "–"
      }** | ${met} | ` +
        `${n0(o.peakRssMiB?.median)} | ${
          o.firstUploadMbps ? `${n0(o.firstUploadMbps.median)} (${r.ceiling ? ratio(o.firstUploadRatio) : "–"})` : "–"
        } |`
    )
  }
  // sha-at-init: the hashing pass and the slices run one after the other, so its rate is 1 / (1/H + 1/U)
  for (const m of modes) {
    const o = r.ours[m]
    if (!o.hashingMbps || !o.uploadPhaseMbps) continue
    const g = goals[m]
    const h = o.hashingMbps.median
    const u = o.uploadPhaseMbps.median
    // judged against the higher of the two ceilings
    const c = Math.max(r.ceiling?.mbps.median ?? 0, r.ceilingOffset?.mbps.median ?? 0) || undefined
    const phaseRatio = c === r.ceilingOffset?.mbps.median ? o.uploadPhaseRatioToOffsetCeiling : o.uploadPhaseRatio
    const inlineRatio = c === r.ceilingOffset?.mbps.median ? r.ours.inline?.ratioToOffsetCeiling : r.ours.inline?.ratio
    lines.push(
      "",
      `- ${m} runs in two phases, one after the other (the receipt's \`hashingMillis\` times the first): the ` +
        `hashing pass before \`upload_slice_init\` at ${n0(h)} MB/s (median), then the slices at ${n0(u)} MB/s` +
        (c ?
          ` (${ratio(phaseRatio)} of the ${c === r.ceilingOffset?.mbps.median ? "second " : ""}ceiling, the higher ` +
          `one; inline, which hashes while sending: ${ratio(inlineRatio)})` :
          "") +
        `. Together 1 / (1/${n0(h)} + 1/${n0(u)}) = ${n0(1 / (1 / h + 1 / u))} MB/s.` +
        (c ?
          ` Even slices at the ceiling's speed would give ${ratio(h / (h + c))}; ` +
          (g === undefined ? "" : h > g * c
            ? `≥ ${g}× needs the slices at ${ratio((g * h) / (h - g * c))} of the ceiling with this hashing speed.`
            : `${g}× is out of reach at this hashing speed.`) :
          "")
    )
  }
  // CPU time per MiB uploaded: how much work each pair does for the same bytes (both processes share the 2 cores)
  const cpuOf = (c) =>
    c?.total ? `${n2(c.client.median)} + ${n2(c.server.median)} = ${n2(c.total.median)} ms` : undefined
  const cpuRows = [
    ["the ceiling (pipeline.mjs + server.mjs)", r.ceiling?.cpuMsPerMiB],
    ["the second ceiling", r.ceilingOffset?.cpuMsPerMiB],
    ...modes.map((m) => [`cos-v4 ${m} (client + emulator)`, r.ours[m]?.cpuMsPerMiB])
  ].filter(([, c]) => cpuOf(c) !== undefined)
  if (cpuRows.length > 0) {
    const base = r.ceiling?.cpuMsPerMiB?.total?.median
    lines.push(
      "",
      "- CPU time per MiB uploaded, client + server (medians of the samples; both processes share the machine's " +
        "cores, so this is the work each pair does for the same bytes): " +
        cpuRows.map(([what, c]) =>
          `${what} ${cpuOf(c)}${base && c !== r.ceiling?.cpuMsPerMiB ? ` (${ratio(c.total.median / base)})` : ""}`
        ).join("; ") + "."
    )
  }
  const rss = Object.entries(r.rss ?? {})
  if (rss.length > 0) {
    lines.push(
      "",
      `Client peak RSS (VmHWM of a fresh client process during one timed upload, after one untimed upload of the same file; goal < 100 MiB and within 10 % ` +
        "between the two sizes), in three configurations: V8's defaults; `NodeMemory.bound()` (one call at the start " +
        "of the program, as `cos` does); and V8's defaults with effect's `internal/core.js` changed as proposed " +
        "upstream (a second client bundle, `packages/node/bench/effect-upstream-fix.ts`; the library and its users run " +
        "effect as published). With the defaults V8 doubles the young generation each time as many bytes have " +
        "survived minor collections as it holds, up to 2 × 16 MiB. Effect 3.22 assigns a function literal straight " +
        "to a property on every async step (`Effect.async`, semaphores, Deferreds); V8 allocates such a closure in " +
        "the old generation until it has optimized that code, and through the dead closure the step's objects survive " +
        "minor collections. That happens at a process's start and again whenever V8 drops optimized code mid-upload " +
        "(once counters pass 2 GiB, or when it revises an allocation-site pretenuring decision), and it is what grows " +
        "the young generation to 2 × 16 MiB after a few GiB; binding those literals to locals first (seven places; the " +
        "third configuration) removes it. V8 also lets the old generation grow up to 4 × its live size. The " +
        `throughput table's RSS column is taken after ${r.warmupMiB} MiB of warm-up, so its figures include the grown young ` +
        "generation. The file-backed part of every figure is ~43 MiB of the `node` executable's code, shared by all " +
        "node processes:",
      "",
      `| integrity mode | ${r.sizeMiB} MiB file | ${4 * r.sizeMiB} MiB file | growth | goal |`,
      "|---|---:|---:|---:|---|"
    )
    for (const [m, x] of rss) {
      const growth = (x.large / x.small - 1) * 100
      const ok = Math.max(x.small, x.large) < 100 && Math.abs(growth) <= 10
      lines.push(
        `| ${m} | ${n0(x.small)} MiB | ${n0(x.large)} MiB | ${growth.toFixed(1)} % | ${ok ? "met" : "**not met**"} |`
      )
    }
  }
  return lines
}

// The uploader bench's JSON shape belongs to its author: every object with numeric min/median/max becomes a row,
// named by its path (or a `label`/`name` key); a numeric `ratio*` sibling is shown next to it.
function renderGeneric(r) {
  const rows = []
  const walk = (v, p) => {
    if (v === null || typeof v !== "object") return
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${p}[${x?.label ?? x?.name ?? i}]`))
    if (typeof v.min === "number" && typeof v.median === "number" && typeof v.max === "number") {
      rows.push({ p, s: v })
      return
    }
    for (const [k, x] of Object.entries(v)) {
      if (k === "samples" || k === "runs" || k === "rows") continue
      walk(x, p ? `${p}.${k}` : k)
    }
    for (const [k, x] of Object.entries(v)) {
      if (/^ratio/i.test(k) && typeof x === "number") rows.push({ p: p ? `${p}.${k}` : k, ratio: x })
    }
  }
  walk(r, "")
  const lines = ["| figure | n | min | median | max |", "|---|---:|---:|---:|---:|"]
  for (const x of rows) {
    if (x.ratio !== undefined) lines.push(`| ${x.p} | – | – | ${ratio(x.ratio)} | – |`)
    else lines.push(`| ${x.p} | ${x.s.n ?? x.s.runs ?? "–"} | ${n1(x.s.min)} | ${n1(x.s.median)} | ${n1(x.s.max)} |`)
  }
  const notes = Object.entries(r).filter(([k, v]) => /note|description/i.test(k) && typeof v === "string")
  for (const [, v] of notes) lines.push("", `> ${v}`)
  return lines
}

// "Cached" of /proc/meminfo, GiB (one decimal)
function cachedGiB() {
  try {
    const kb = Number(/^Cached:\s+(\d+)/m.exec(fs.readFileSync("/proc/meminfo", "latin1"))?.[1])
    return (kb / 1048576).toFixed(1)
  } catch {
    return "?"
  }
}

// VmHWM (MiB) of an idle node process, plain or with the tsx loader (the emulator runs under tsx)
const idleRss = (flags) => {
  const code = "setTimeout(() => console.log(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', " +
    "'latin1'))[1]), 200)"
  const out = sh(process.execPath, [...flags, "-e", code])
  return out === undefined ? undefined : Number(out) / 1024
}

async function main() {
  const t0 = Date.now()
  const idle = { plain: idleRss([]), tsx: idleRss(["--import", "tsx"]) }
  const startLoad = loadavg()
  const startCachedGiB = cachedGiB()
  const commit = sh("git", ["rev-parse", "--short", "HEAD"])
  const dirty = sh("git", ["status", "--porcelain"])
  const haveRef = fs.existsSync(path.join(REF_DIR, "pipeline.mjs")) && fs.existsSync(path.join(REF_DIR, "server.mjs"))
  if (!haveRef) say(`reference scripts not found in ${REF_DIR}: reference rows will be skipped`)
  const results = {}
  for (const id of Object.keys(STEPS)) {
    if (!ONLY.includes(id)) continue
    if (STEPS[id].skip) {
      say(`${id}: skipped: ${STEPS[id].skip}`)
      results[id] = { id, skipped: STEPS[id].skip }
      continue
    }
    results[id] = await runStep(id)
  }
  const totalSec = Math.round((Date.now() - t0) / 1000)
  const cpus = os.cpus()
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z")

  const section = (id, title, render) => {
    const r = results[id]
    const out = [`## ${title}`, ""]
    if (r === undefined) out.push(`Not run (\`--only\`).`)
    else if (r.skipped) out.push(`Skipped: ${r.skipped}.`)
    else if (r.error || r.result === undefined) {
      out.push(`**Failed** (${r.error}); see \`.bench-tmp/${id}.json\` and the run's stderr.`)
    } else {
      try {
        out.push(...render(r.result))
      } catch (e) {
        out.push(`Could not render the result (${e.message}); raw JSON in \`.bench-tmp/${id}.json\`.`)
      }
    }
    out.push("")
    return out
  }
  const doc = [
    "# Benchmarks",
    "",
    `Generated by \`pnpm bench${
      QUICK ? " --quick" : ""
    }\` (\`node scripts/bench.mjs\`) on ${date}; rewritten on every ` +
    "run, do not edit by hand. Benchmarks are not tests and never run in `pnpm test`. Absolute figures drift " +
    "between machines and runs, so every figure that has a reference is also given as a ratio to that reference " +
    "measured **in the same run** (references: `../shared/bench-limits/`, beside the repository). Each figure is " +
    "min / median / max over n runs after a warm-up; MB = 10^6 bytes.",
    "",
    ...(QUICK ? ["> **Quick smoke run** (smaller files, fewer runs): not representative.", ""] : []),
    "## Machine",
    "",
    `- CPU: ${cpus.length} × ${cpus[0]?.model.trim() ?? "?"}; RAM ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- Node ${process.version}, ${os.type()} ${os.release()} (${os.arch()})`,
    `- Commit ${commit ?? "?"}${dirty ? " with uncommitted changes" : ""}; suite took ${
      Math.floor(totalSec / 60)
    } min ` +
    `${totalSec % 60} s`,
    `- Page cache at start: ${startCachedGiB} GiB. Both servers write into the page cache, and on this VM that got ` +
    "slower with many GiB of stale files cached: on 2026-11-25 the reference ran at ~400 MB/s with 12 GiB cached " +
    "and at ~800 MB/s once 7 GiB of leftovers in $TMPDIR were deleted. Delete leftovers before a run.\n" +
    `- Load average at start: ${startLoad}; at end: ${loadavg()}. Emulator-bench samples during which other ` +
    "processes used more than 20 % of a core (machine CPU − client − server) are counted as disturbed below" +
    (QUICK ? "." : "; they are repeated up to twice while the step is within its time budget, keeping the least " +
      "disturbed attempt."),
    `- Idle Node process peak RSS: ${n0(idle.plain)} MiB plain, ${n0(idle.tsx)} MiB with \`--import tsx\` (the ` +
    "emulator runs under tsx, so its RSS figures include that loader; the uploader bench's client runs bundled under " +
    "plain node)",
    ...(haveRef ? [] : ["- **The reference scripts were not found: reference rows are skipped.**"]),
    "",
    ...section("emulator", "Emulator throughput vs the reference storing server", renderEmulator),
    ...section("uploader", "Uploader (our client + emulator) vs the hand-written pipeline", renderUploader),
    ...section("resume", "Resume after a killed client, and instant upload", renderResume),
    ...section("sha1", "SHA-1 implementations vs node:crypto", renderSha1),
    "## How to reproduce",
    "",
    "```sh",
    "# with ../shared/bench-limits/ beside the repository (pipeline.mjs, server.mjs)",
    "pnpm install",
    "pnpm bench            # full suite, < 15 min on 2 cores; rewrites docs/benchmarks.md",
    "pnpm bench --quick    # smoke run, 1–2 min; writes .bench-tmp/benchmarks.quick.md",
    "pnpm bench --only emulator,resume   # a subset (sha1, emulator, resume, uploader)",
    "```",
    "",
    "Raw JSON of each step is in `.bench-tmp/<step>.json`. The test files (`$TMPDIR/cos-v4-bench-*.bin`, " +
    "`$TMPDIR/cos-v4-bench/`) are kept for the next run; delete them when done. The steps also run alone:",
    "",
    "```sh",
    "node_modules/.bin/tsx packages/core/bench/sha1.bench.mjs --size-mib=512 --runs=5",
    "node packages/emulator/bench/emulator.bench.mjs --size-mib 1024 --runs 7 --variants default,fsync",
    "node packages/emulator/bench/resume.bench.mjs --size-mib 256 --runs 5",
    "node_modules/.bin/tsx packages/node/bench/upload.bench.ts --rounds 5 --runs 1 --warmup-mib 4096",
    "```",
    "",
    "Method: the emulator bench drives the emulator (`node --import tsx packages/emulator/src/bin.ts --auth off`) " +
    "with a minimal hand-written v4 client built like `pipeline.mjs` (`packages/emulator/bench/v4client.mjs`: pool " +
    "of c+1 slice buffers, whole-file SHA-1 in order, 1 MiB slices, 4 in flight, keep-alive `node:http` agent, " +
    "multipart bodies written as head/slice/tail pieces; `upload_slice_init` → `upload_slice_data` × n → " +
    "`upload_slice_finish` with the sha, then `stat` to check the stored sha). The reference is one long-lived " +
    "`server.mjs --mode mp-builtin-offset` and a fresh `pipeline.mjs --port P --runs 1 --warmup-mib W --verify` per " +
    "sample (the method of the shared effect-http-perf study). \"Slices\" times the span `pipeline.mjs` times (first " +
    "read → last slice acknowledged); \"init → finish\" adds the init and finish requests, and finish includes the " +
    "emulator's SHA-1 of the assembled file. Peak RSS is the emulator process's VmHWM, reset before each timed run.",
    ""
  ]
  fs.mkdirSync(path.dirname(OUT), { recursive: true })
  fs.writeFileSync(OUT, doc.join("\n"))
  fs.writeFileSync(path.join(TMP, "summary.json"), JSON.stringify({ date, quick: QUICK, totalSec, results }, null, 1))
  say(`wrote ${path.relative(root, OUT)} in ${totalSec} s total`)
  if (Object.values(results).some((r) => r.error)) process.exitCode = 1
}

await main()
