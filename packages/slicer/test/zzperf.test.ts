import * as Sha1 from "@cos-v4/core/Sha1"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CheckpointStore from "../src/CheckpointStore.js"
import * as CosConfig from "../src/CosConfig.js"
import * as Signer from "../src/Signer.js"
import * as Transport from "../src/Transport.js"
import * as Uploader from "../src/Uploader.js"
import * as UploadSource from "../src/UploadSource.js"
import * as Fake from "./fakeServer.js"

const S = 65536
const N = 3000
const body = (data: unknown) => JSON.stringify({ code: 0, message: "SUCCESS", request_id: "r", data })
const client = HttpClient.make((request, url) => {
  const op = request.body._tag === "Uint8Array" ? (/name="op"\r\n\r\n([a-z_]+)/.exec(Buffer.from(request.body.body.subarray(0, 300)).toString("latin1"))?.[1] ?? "") : url.searchParams.get("op")
  const data = op === "upload_slice_init" ? { session: "s", slice_size: S } : op === "upload_slice_data" ? { session: "s", offset: 0, datalen: S } : op === "stat" ? { sha: "x" } : Fake.config
  return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body(data), { status: 200 })))
})
const layer = Layer.mergeAll(
  Transport.layer.pipe(Layer.provideMerge(Layer.mergeAll(Signer.layer(Fake.credentials), Layer.succeed(HttpClient.HttpClient, client))), Layer.provideMerge(CosConfig.layer(Fake.config))),
  CheckpointStore.layerMemory,
  Layer.succeed(Sha1.Sha1, { name: "noop", make: () => ({ byteLength: 0, update() {}, state: () => "", digest: () => "x", digestBytes: () => new Uint8Array(), clone() { return this }, exportState: () => new Uint8Array() }), fromState: () => { throw new Error() } } as never)
)
it.live("perf", () =>
  Effect.gen(function*() {
    const data = new Uint8Array(S * N)
    const base: Array<number> = []
    const up: Array<number> = []
    for (let round = 0; round < 5; round++) {
      const t0 = performance.now()
      yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), () => Effect.flatMap(client.execute(HttpClientRequest.post("http://x/a").pipe(HttpClientRequest.bodyUint8Array(new Uint8Array(10)))), (r) => r.text), { concurrency: 4, discard: true })
      const t1 = performance.now()
      yield* Effect.either(Uploader.upload(UploadSource.fromUint8Array(data), "/f", { sliceSize: S, simpleUploadThreshold: 0, integrity: "inline" }))
      const t2 = performance.now()
      base.push((t1 - t0) * 1000 / N)
      up.push((t2 - t1) * 1000 / N)
    }
    console.log(`baseline ${base.map((x) => x.toFixed(0)).join(" ")} us/req, uploader ${up.map((x) => x.toFixed(0)).join(" ")} us/slice`)
  }).pipe(Effect.provide(layer)))
