// SHA-1 throughput: node:crypto vs the pure-TypeScript hasher vs the OpenSSL addon (@cos-v4/node) vs hash-wasm.
//
//   npx tsx packages/core/bench/sha1.bench.mjs [--size-mib=512] [--runs=5] [--chunk-kib=1024] [--json]
//                                              [--hash-wasm=/tmp/hw/node_modules/hash-wasm]
//
// The data is in memory (byte i = i mod 251) and fed in chunks, as an uploader reading a file would. hash-wasm is
// not a dependency of this repo: install it somewhere else (`npm i --prefix /tmp/hw hash-wasm`) and point
// --hash-wasm (or HASH_WASM) at it; it is skipped otherwise. The native addon is skipped when it is not built.
import * as crypto from "node:crypto"
import { createRequire } from "node:module"
import path from "node:path"
import { pathToFileURL } from "node:url"
import * as pure from "../src/internal/sha1.ts"

const arg = (name, fallback) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`))
  return hit === undefined ? fallback : hit.slice(name.length + 3)
}
const json = process.argv.includes("--json")
const sizeMiB = Number(arg("size-mib", "512"))
const runs = Math.max(5, Number(arg("runs", "5")))
const chunk = Number(arg("chunk-kib", "1024")) * 1024
const hashWasmDir = arg("hash-wasm", process.env.HASH_WASM ?? "/tmp/hw/node_modules/hash-wasm")
const say = (line) => {
  if (!json) process.stderr.write(`${line}\n`)
}

const size = sizeMiB * 1048576
const data = new Uint8Array(size)
for (let i = 0; i < size; i++) data[i] = i % 251
const chunks = []
for (let o = 0; o < size; o += chunk) chunks.push(data.subarray(o, Math.min(o + chunk, size)))

const candidates = [
  {
    name: "node:crypto createHash('sha1')",
    run: () => {
      const h = crypto.createHash("sha1")
      for (const c of chunks) h.update(c)
      return h.digest("hex")
    }
  },
  {
    name: "pure TS (@cos-v4/core Sha1.make)",
    run: () => {
      const h = pure.make()
      for (const c of chunks) h.update(c)
      return h.digest()
    }
  }
]

try {
  const require = createRequire(import.meta.url)
  require.resolve("../../native/addon/build/Release/cos_v4_sha1.node")
  const { native } = await import("../../native/src/internal/nativeSha1.ts")
  const loaded = native()
  if (loaded._tag === "Right") {
    const service = loaded.right
    candidates.push({
      name: "native OpenSSL addon (@cos-v4/native NativeSha1)",
      run: () => {
        const h = service.make()
        for (const c of chunks) h.update(c)
        return h.digest()
      }
    })
  } else say(`native addon skipped: ${loaded.left}`)
} catch (error) {
  say(`native addon skipped: ${error.message}`)
}

try {
  const hashWasm = await import(pathToFileURL(path.join(hashWasmDir, "dist", "index.esm.js")).href)
  candidates.push({
    name: `hash-wasm createSHA1 (${hashWasmDir})`,
    setup: async () => hashWasm.createSHA1(),
    run: (hasher) => {
      hasher.init()
      for (const c of chunks) hasher.update(c)
      return hasher.digest("hex")
    }
  })
} catch (error) {
  say(`hash-wasm skipped: ${error.message}`)
}

const expected = crypto.createHash("sha1").update(data).digest("hex")
const results = []
for (const candidate of candidates) {
  const context = candidate.setup ? await candidate.setup() : undefined
  if (candidate.run(context) !== expected) throw new Error(`${candidate.name}: wrong digest`)
  const rates = []
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint()
    candidate.run(context)
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    rates.push(size / 1e6 / seconds)
  }
  rates.sort((a, b) => a - b)
  results.push({
    name: candidate.name,
    runs,
    minMBps: Math.round(rates[0]),
    medianMBps: Math.round(rates[Math.floor(rates.length / 2)]),
    maxMBps: Math.round(rates[rates.length - 1])
  })
  say(`${candidate.name}: median ${results.at(-1).medianMBps} MB/s`)
}

const baseline = results[0].medianMBps
for (const r of results) r.vsNodeCrypto = Number((r.medianMBps / baseline).toFixed(2))

if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, sizeMiB, chunkBytes: chunk, results }, null, 2)}\n`)
} else {
  const lines = [
    `SHA-1 over ${sizeMiB} MiB in ${chunk / 1024} KiB chunks, ${runs} runs, node ${process.version} (MB = 10^6 bytes)`,
    "",
    "| implementation | min MB/s | median MB/s | max MB/s | median vs node:crypto |",
    "|---|---:|---:|---:|---:|",
    ...results.map((r) => `| ${r.name} | ${r.minMBps} | ${r.medianMBps} | ${r.maxMBps} | ${r.vsNodeCrypto}× |`)
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
}
