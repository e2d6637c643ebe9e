// FaultInjection composes with a real HttpClient and a real server: the same rules as in virtual time, over
// NodeHttpClient and an emulator on 127.0.0.1 (docs/testing.md).
import * as Emulator from "@cos-v4/emulator/Emulator"
import * as NodeHttpClient from "@cos-v4/node/NodeHttpClient"
import * as NodeSha1 from "@cos-v4/node/NodeSha1"
import * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import * as Cos from "@cos-v4/slicer/Cos"
import * as CosConfig from "@cos-v4/slicer/CosConfig"
import * as FaultInjection from "@cos-v4/slicer/FaultInjection"
import * as Signer from "@cos-v4/slicer/Signer"
import * as Transport from "@cos-v4/slicer/Transport"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as UploadSource from "@cos-v4/slicer/UploadSource"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as H from "./harness.js"

describe("reliability: fault injection over a real server", () => {
  it.live("an upload through resets, a stall, a duplicate and a -4019 completes intact", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const rules: ReadonlyArray<FaultInjection.Rule> = [
        { op: "upload_slice_init", fault: FaultInjection.uploadNotFinished },
        { op: "upload_slice_data", offset: 512 * 1024, fault: FaultInjection.reset({ reached: true }) },
        { op: "upload_slice_data", offset: 1024 * 1024, fault: FaultInjection.stall() },
        { op: "upload_slice_data", offset: 1536 * 1024, fault: FaultInjection.duplicate },
        { op: "upload_slice_data", nth: 5, fault: FaultInjection.status(502) },
        // 100 KiB of the last slice reach the emulator, then the connection breaks
        { op: "upload_slice_data", offset: 3 * 512 * 1024, fault: FaultInjection.reset({ afterBytes: 100 * 1024 }) }
      ]
      const http = FaultInjection.layer(rules).pipe(Layer.provide(NodeHttpClient.layer()))
      const services = Transport.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(
          http,
          Signer.layer({ appId: H.appId, secretId: H.secretId, secretKey: Redacted.make(H.secretKey) })
        )),
        Layer.provideMerge(CosConfig.layer({ endpoint: emulator.url, appId: H.appId, bucket: H.bucket })),
        Layer.merge(Layer.mergeAll(CheckpointStore.layerMemory, NodeSha1.layer))
      )
      const data = crypto.randomBytes(3 * 1024 * 1024 + 5)
      const { injected, receipt, stat } = yield* Effect.gen(function*() {
        const receipt = yield* Uploader.upload(UploadSource.fromUint8Array(data), "/faults/real.bin", {
          sliceSize: 512 * 1024,
          concurrency: 2,
          stallTimeout: "1 second",
          simpleUploadThreshold: 0
        })
        const stat = yield* Cos.stat("/faults/real.bin")
        const injector = yield* FaultInjection.FaultInjection
        return { injected: injector.injected, receipt, stat }
      }).pipe(Effect.provide(services))
      assert.strictEqual(receipt.sha1, H.sha1(data))
      assert.strictEqual(stat.sha, H.sha1(data))
      assert.strictEqual(stat.filesize, data.length)
      assert.deepStrictEqual(injected.map((i) => i.fault._tag).sort(), [
        "Code",
        "Duplicate",
        "Reset",
        "Stall",
        "Status"
      ])
      assert.isAtLeast(receipt.retries, 4)
    }).pipe(
      Effect.provide(Emulator.layerTest({
        appId: H.appId,
        buckets: [H.bucket],
        auth: "strict",
        credentials: [{ secretId: H.secretId, secretKey: Redacted.make(H.secretKey) }]
      }))
    ), 60_000)
})
