/**
 * Hot-path benchmark of the Uploader (not a test): uploads a page-cached file through the real Uploader, the
 * keep-alive node HttpClient, the native SHA-1 and the memory checkpoint store, to a v4 server at --endpoint.
 *
 *   node_modules/.bin/tsx packages/slicer/bench/hotpath.bench.ts --endpoint URL --file F
 *     [--integrity inline|sha-at-init] [--runs 3] [--warmup-mib 1024] [--concurrency 4] [--slice-mib 1]
 *     [--source node|fs] [--json] [--label L] [--tracer on|off]
 *
 * Per timed run: VmHWM is reset through /proc/self/clear_refs first (as pipeline.mjs does); reports MB/s
 * (10^6 bytes), peak RSS and client CPU.
 */
import * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import * as CosConfig from "@cos-v4/slicer/CosConfig"
import * as Signer from "@cos-v4/slicer/Signer"
import * as Transport from "@cos-v4/slicer/Transport"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as UploadSource from "@cos-v4/slicer/UploadSource"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
// the node package depends on the slicer, not the other way round: reach it by path
import * as NodeHttpClient from "../../node/src/NodeHttpClient.js"
import * as NodeSha1 from "../../node/src/NodeSha1.js"
import * as NodeUploadSource from "../../node/src/NodeUploadSource.js"
// @ts-expect-error -- no types through a dist path
import * as NodeFileSystem from "../../node/node_modules/@effect/platform-node/dist/esm/NodeFileSystem.js"

const args = process.argv.slice(2)
const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1]! : d)
const flag = (n: string) => args.includes(`--${n}`)
const ENDPOINT = opt("endpoint", "")
const FILE = opt("file", "")
const INTEGRITY = opt("integrity", "inline") as "inline" | "sha-at-init"
const RUNS = Number(opt("runs", "3"))
const WARMUP = Number(opt("warmup-mib", "1024")) * 1048576
const CONC = Number(opt("concurrency", "4"))
const SLICE = Number(opt("slice-mib", "1")) * 1048576
const SOURCE = opt("source", "node")
const TRACER = opt("tracer", "on")
const SIZE = fs.statSync(FILE).size

const vmHWMKiB = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "latin1"))![1])
const resetHWM = () => {
  try {
    fs.writeFileSync("/proc/self/clear_refs", "5")
  } catch {
    // not permitted: the process-lifetime peak is reported
  }
}

const appId = "1250000000"
const bucket = "bkt"
const layer = Transport.layer.pipe(
  Layer.provideMerge(Layer.merge(
    Signer.layer({ appId, secretId: "AKIDbench", secretKey: Redacted.make("benchkey") }),
    NodeHttpClient.layer({ maxSockets: Math.max(16, 2 * CONC) })
  )),
  Layer.provideMerge(CosConfig.layer({ endpoint: ENDPOINT, appId, bucket })),
  Layer.merge(Layer.mergeAll(CheckpointStore.layerMemory, NodeSha1.layer, NodeFileSystem.layer as Layer.Layer<never>))
)
const runtime = ManagedRuntime.make(layer)

let n = 0
const once = () => {
  const source = SOURCE === "fs" ? UploadSource.fromFile(FILE) : NodeUploadSource.fromFile(FILE)
  const effect = Uploader.upload(source, `/bench/h-${process.pid}-${n++}.bin`, {
    integrity: INTEGRITY,
    concurrency: CONC,
    sliceSize: SLICE,
    overwrite: true
  }) as Effect.Effect<unknown, unknown, Layer.Layer.Success<typeof layer>>
  return runtime.runPromise(TRACER === "off" ? Effect.withTracerEnabled(effect, false) : effect)
}

const stats = (xs: Array<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2, max: s[s.length - 1], runs: s.length }
}

const main = async () => {
  for (let done = 0; done < WARMUP; done += SIZE) await once()
  const runs: Array<{ cpuMsPerMB: number; mbps: number; peakRssMiB: number; cpuPct: number; seconds: number }> = []
  for (let r = 0; r < RUNS; r++) {
    resetHWM()
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    await once()
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const cpu = process.cpuUsage(cpu0)
    runs.push({
      cpuMsPerMB: Math.round((cpu.user + cpu.system) / 1e3 / (SIZE / 1e6) * 1000) / 1000,
      mbps: Math.round(SIZE / 1e6 / seconds),
      peakRssMiB: Math.round(vmHWMKiB() / 1024),
      cpuPct: Math.round((cpu.user + cpu.system) / 1e4 / seconds),
      seconds
    })
  }
  const out = {
    label: opt("label", ""),
    integrity: INTEGRITY,
    sizeMiB: SIZE / 1048576,
    mbps: stats(runs.map((r) => r.mbps)),
    peakRssMiB: stats(runs.map((r) => r.peakRssMiB)),
    cpuMsPerMB: stats(runs.map((r) => r.cpuMsPerMB)),
    runs
  }
  if (flag("json")) console.log(JSON.stringify(out))
  else {
    console.log(`${out.label} ${INTEGRITY}: ${JSON.stringify(out.mbps)} MB/s, rss ${JSON.stringify(out.peakRssMiB)}`)
    for (const r of runs) console.log(`  run ${r.mbps} MB/s rss ${r.peakRssMiB} MiB cpu ${r.cpuPct}% ${r.cpuMsPerMB} ms/MB`)
  }
  await runtime.dispose()
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
