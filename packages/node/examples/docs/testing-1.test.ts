// Generated from docs/testing.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import * as FaultInjection from "@cos-v4/slicer/FaultInjection"
import * as MemoryServer from "@cos-v4/slicer/MemoryServer"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as UploadSource from "@cos-v4/slicer/UploadSource"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"

// the app code under test: uploads a report, with a 10 s stall limit
const publishReport = (bytes: Uint8Array) =>
  Uploader.upload(UploadSource.fromUint8Array(bytes, "report.csv"), "/reports/today.csv", {
    sliceSize: 64 * 1024,
    simpleUploadThreshold: 0,
    stallTimeout: "10 seconds"
  })

describe("testing guide", () => {
  it.effect("an upload survives a stalled slice and a lost acknowledgement, in virtual time", () =>
    Effect.gen(function*() {
      const server = MemoryServer.unsafeMake({ verifySignatures: true })
      const injector = FaultInjection.unsafeMake([
        // the second slice's first attempt hangs forever: the uploader's stall timer must fire
        { op: "upload_slice_data", offset: 64 * 1024, fault: FaultInjection.stall() },
        // the third slice reaches the server but the connection drops before its answer
        { op: "upload_slice_data", offset: 128 * 1024, fault: FaultInjection.reset({ reached: true }) }
      ])
      const report = new Uint8Array(200 * 1024).map((_, i) => i % 7)
      const fiber = yield* publishReport(report).pipe(
        Effect.provide(
          MemoryServer.layerServices(server, undefined, CheckpointStore.layerMemory, injector.wrap(server.client))
        ),
        Effect.fork
      )
      // no real waiting: move the clock past the stall limit and the retry delays
      yield* TestClock.adjust("1 minute")
      const receipt = yield* Fiber.join(fiber)

      assert.deepStrictEqual(server.files.get("/reports/today.csv")?.bytes, report)
      assert.strictEqual(receipt.fileSize, report.length)
      assert.strictEqual(injector.injected.length, 2)
      assert.isAtLeast(receipt.retries, 2)
    }))
})
