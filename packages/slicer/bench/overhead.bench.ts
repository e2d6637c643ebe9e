/**
 * Per-slice CPU overhead of the Uploader + Transport alone (not a test): a fake in-process HttpClient that
 * answers at once, an in-memory source, a no-op SHA-1. Reports µs of CPU per slice (median of rounds).
 *
 *   node_modules/.bin/tsx packages/slicer/bench/overhead.bench.ts [--slices 1024] [--slice 1048576] [--rounds 5]
 *     [--integrity inline|sha-at-init] [--tracer on|off]
 */
import type * as Sha1 from "@cos-v4/core/Sha1"
import * as Sha1Tag from "@cos-v4/core/Sha1"
import * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import * as CosConfig from "@cos-v4/slicer/CosConfig"
import * as Signer from "@cos-v4/slicer/Signer"
import * as Transport from "@cos-v4/slicer/Transport"
import * as Uploader from "@cos-v4/slicer/Uploader"
import type * as UploadSource from "@cos-v4/slicer/UploadSource"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

const args = process.argv.slice(2)
const opt = (n: string, d: string) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1]! : d)
const SLICES = Number(opt("slices", "1024"))
const SLICE = Number(opt("slice", "1048576"))
const ROUNDS = Number(opt("rounds", "5"))
const INTEGRITY = opt("integrity", "inline") as "inline" | "sha-at-init"
const TRACER = opt("tracer", "on")
const SHA = "da39a3ee5e6b4b0d3255bfef95601890afd80709"

const hasher = (): Sha1.Sha1Hasher => {
  let n = 0
  const h: Sha1.Sha1Hasher = {
    get byteLength() {
      return n
    },
    update: (b) => {
      n += b.length
    },
    state: () => SHA,
    digest: () => SHA,
    digestBytes: () => new Uint8Array(20),
    clone: () => hasher(),
    exportState: () => new Uint8Array(28)
  }
  return h
}
const sha1: Sha1.Sha1.Service = { name: "noop", make: hasher, fromState: () => Option.some(hasher()) }

const decoder = new TextDecoder("latin1")
const field = (head: string, name: string) => {
  const i = head.indexOf(`name="${name}"\r\n\r\n`)
  if (i < 0) return undefined
  const s = i + name.length + 11
  return head.slice(s, head.indexOf("\r\n", s))
}
const envelope = (data: unknown) => JSON.stringify({ code: 0, message: "SUCCESS", request_id: "r", data })
const access = { access_url: "http://x/a", resource_path: "/a", source_url: "http://x/a", url: "http://x/a" }
const fake = HttpClient.make((request) =>
  Effect.sync(() => {
    let text: string
    if (request.method === "GET") text = envelope({ name: "f", sha: SHA })
    else {
      const body = request.body
      const head = body._tag === "Uint8Array" ? decoder.decode(body.body.subarray(0, 1024)) : ""
      const op = field(head, "op")
      text = op === "upload_slice_init"
        ? envelope({ session: "s1", slice_size: Number(field(head, "slice_size")) })
        : op === "upload_slice_data"
        ? envelope({ session: "s1", offset: Number(field(head, "offset")), datalen: SLICE })
        : envelope(access)
    }
    return { status: 200, text: Effect.succeed(text), request } as unknown as HttpClientResponse.HttpClientResponse
  })
)

const appId = "1250000000"
const layer = Transport.layer.pipe(
  Layer.provideMerge(Layer.merge(
    Signer.layer({ appId, secretId: "AKIDbench", secretKey: Redacted.make("benchkey") }),
    Layer.succeed(HttpClient.HttpClient, fake)
  )),
  Layer.provideMerge(CosConfig.layer({ endpoint: "http://127.0.0.1:1", appId, bucket: "bkt" })),
  Layer.merge(Layer.merge(CheckpointStore.layerMemory, Layer.succeed(Sha1Tag.Sha1, sha1)))
)
const runtime = ManagedRuntime.make(layer)
// reads nothing (the bytes are whatever is in the buffer): no per-byte cost, only the per-slice plumbing
const source: UploadSource.UploadSource = {
  name: "<zero-cost>",
  open: Effect.succeed({
    size: SLICES * SLICE,
    mtimeMs: undefined,
    randomAccess: true,
    read: (into: Uint8Array) => Effect.succeed(into.length)
  })
}
let n = 0
const once = () => {
  const effect = Uploader.upload(source, `/bench/o-${n++}.bin`, {
    integrity: INTEGRITY,
    concurrency: 4,
    sliceSize: SLICE,
    simpleUploadThreshold: 0,
    overwrite: true
  })
  return runtime.runPromise(TRACER === "off" ? Effect.withTracerEnabled(effect, false) : effect)
}
const main = async () => {
  await once()
  const xs: Array<number> = []
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage()
    await once()
    const c = process.cpuUsage(c0)
    xs.push((c.user + c.system) / SLICES)
  }
  xs.sort((a, b) => a - b)
  console.log(
    `${INTEGRITY} tracer=${TRACER}: µs CPU per slice min ${xs[0]!.toFixed(1)} median ${
      xs[xs.length >> 1]!.toFixed(1)
    } max ${xs[xs.length - 1]!.toFixed(1)}`
  )
  await runtime.dispose()
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
