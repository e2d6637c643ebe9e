/**
 * Per-request cost of the HTTP clients (effect-http-perf.md §4.1 method): 1 KiB POST bodies, 4 in flight
 * through `Effect.forEach`, each answer's text read, against a discarding node:http server in another process.
 * Client CPU µs per request (process.cpuUsage) and wall µs per request; median of 3 passes after a warm-up pass.
 *
 *   node_modules/.bin/tsx packages/node/bench/http-overhead.bench.ts [--requests 3000]
 */
import * as PlatformNodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as ChildProcess from "node:child_process"
import * as Http from "node:http"
import { parseArgs } from "node:util"
import * as NodeHttpClient from "../src/NodeHttpClient.js"

const { values } = parseArgs({ options: { requests: { type: "string", default: "3000" } } })
const N = Number(values.requests)
const C = 4

const serverCode = `
const http = require("node:http")
const s = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
  req.on("data", () => {})
  req.on("end", () => res.end('{"code":0,"message":"SUCCESS","data":{}}'))
})
s.listen(0, "127.0.0.1", () => console.log(s.address().port))
`

const body = new Uint8Array(1024).fill(7)

const effectLoop = (url: string) =>
  Effect.gen(function*() {
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)
    const request = HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUint8Array(body))
    yield* Effect.forEach(
      Array.from({ length: N }, (_, i) => i),
      () => Effect.flatMap(client.execute(request), (r) => r.text),
      { concurrency: C, discard: true }
    )
  })

const plainLoop = (url: string, agent: Http.Agent) => async () => {
  let next = 0
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = Http.request(url, {
        method: "POST",
        agent,
        headers: { "content-type": "application/octet-stream", "content-length": String(body.length) }
      }, (res) => {
        res.on("data", () => {})
        res.on("end", resolve)
      })
      req.on("error", reject)
      req.end(body)
    })
  const worker = async () => {
    while (next++ < N) await one()
  }
  await Promise.all(Array.from({ length: C }, worker))
}

const measure = async (run: () => Promise<void>) => {
  await run()
  const cpu: Array<number> = []
  const wall: Array<number> = []
  for (let k = 0; k < 3; k++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await run()
    const c = process.cpuUsage(c0)
    wall.push(((performance.now() - t0) * 1000) / N)
    cpu.push((c.user + c.system) / N)
  }
  const med = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[1]!
  return { cpu: med(cpu), wall: med(wall), cpuRange: [Math.min(...cpu), Math.max(...cpu)] }
}

const main = async () => {
  const server = ChildProcess.spawn(process.execPath, ["-e", serverCode], { stdio: ["ignore", "pipe", "inherit"] })
  const port = await new Promise<number>((resolve) => server.stdout.once("data", (d: Buffer) => resolve(Number(d))))
  const url = `http://127.0.0.1:${port}/upload`
  const variants: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient> | "plain"]> = [
    ["plain node:http promise loop, keep-alive agent (baseline)", "plain"],
    ["@cos-v4/node NodeHttpClient (keep-alive, no AbortSignal, tracer off)", NodeHttpClient.layer({ maxSockets: C })],
    [
      "@effect/platform-node NodeHttpClient + keep-alive agent, tracer off",
      PlatformNodeHttpClient.layerWithoutAgent.pipe(
        Layer.provide(PlatformNodeHttpClient.makeAgentLayer({ keepAlive: true, maxSockets: C, maxFreeSockets: C }))
      )
    ],
    ["@effect/platform-node NodeHttpClient.layer (stock: no keep-alive), tracer off", PlatformNodeHttpClient.layer]
  ]
  const rows: Array<
    { readonly name: string; readonly cpu: number; readonly wall: number; readonly cpuRange: Array<number> }
  > = []
  try {
    for (const [name, layer] of variants) {
      if (layer === "plain") {
        const agent = new Http.Agent({ keepAlive: true, maxSockets: C })
        rows.push({ name, ...(await measure(plainLoop(url, agent))) })
        agent.destroy()
        continue
      }
      const runtime = ManagedRuntime.make(layer)
      rows.push({ name, ...(await measure(() => runtime.runPromise(effectLoop(url)))) })
      await runtime.dispose()
    }
  } finally {
    server.kill()
  }
  console.log(
    `${N} requests × 3 passes (after a warm-up pass), 1 KiB bodies, ${C} in flight; Node ${process.version}\n`
  )
  console.log("| path | wall µs/request | client CPU µs/request (min–max) |")
  console.log("|---|---|---|")
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.wall.toFixed(0)} | ${r.cpu.toFixed(0)} (${r.cpuRange.map((x) => x.toFixed(0)).join("–")}) |`
    )
  }
  console.log(JSON.stringify(rows))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
