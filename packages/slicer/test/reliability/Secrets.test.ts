// Issue 7 item 6 (docs/security.md): secrets never reach logs, events, receipts or errors.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as FaultInjection from "../../src/FaultInjection.js"
import * as MemoryServer from "../../src/MemoryServer.js"
import * as Uploader from "../../src/Uploader.js"
import * as UploadSource from "../../src/UploadSource.js"
import * as Fake from "../fakeServer.js"
import { drive } from "../utils.js"

describe("reliability: secrets", () => {
  it.effect("the secret key and the signatures appear in no log line, event, receipt or error", () =>
    Effect.gen(function*() {
      const secret = Redacted.value(MemoryServer.credentials.secretKey)
      const lines: Array<string> = []
      const logger = Logger.make(({ message }) => {
        lines.push(JSON.stringify(message, (_, v) => (typeof v === "bigint" ? String(v) : v)))
      })
      const server = MemoryServer.unsafeMake({ verifySignatures: true })
      const run = (rules: ReadonlyArray<FaultInjection.Rule>, path: string) =>
        Uploader.uploadWithProgress(UploadSource.fromUint8Array(Fake.bytes(5 * 1024 + 3)), path, {
          sliceSize: 1024,
          simpleUploadThreshold: 0,
          retrySchedule: Schedule.recurs(2)
        }).pipe(
          Stream.runCollect,
          Effect.provide(
            MemoryServer.layerServices(
              server,
              undefined,
              undefined,
              FaultInjection.unsafeMake(rules).wrap(server.client)
            )
          ),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All),
          drive
        )
      // one upload that succeeds after faults, one that fails (a signature the server refuses)
      const ok = yield* run([
        { op: "upload_slice_data", nth: 2, fault: FaultInjection.expireSignature },
        { op: "upload_slice_data", nth: 3, fault: FaultInjection.status(502) }
      ], "/ok.bin")
      const failed = yield* run([{ op: "upload_slice_init", fault: FaultInjection.code("AuthFailed") }], "/no.bin")
      assert.isTrue(Exit.isSuccess(ok))
      assert.isTrue(Exit.isFailure(failed))
      const texts = [
        ...lines,
        JSON.stringify(ok),
        JSON.stringify(failed),
        String(Exit.isFailure(failed) ? failed.cause : ""),
        ...(Exit.isSuccess(ok) ? Array.from(ok.value, (e) => `${String(e)} ${JSON.stringify(e)}`) : [])
      ]
      const signatures = server.log.map((e) => e.authorization)
      assert.isAbove(signatures.length, 5)
      for (const text of texts) {
        assert.notInclude(text, secret)
        for (const s of signatures) assert.notInclude(text, s)
      }
      // Redacted values print as <redacted>
      assert.strictEqual(String(MemoryServer.credentials.secretKey), "<redacted>")
    }))
})
