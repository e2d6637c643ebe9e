// Generated from docs/emulator.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as Emulator from "@cos-v4/emulator/Emulator"
import * as EmulatorStorage from "@cos-v4/emulator/EmulatorStorage"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

// disk storage, explicit options
export const live = Emulator.layer({
  port: 8080,
  credentials: [{ secretId: "AKIDtest", secretKey: Redacted.make("testkey") }],
  auth: "strict"
}).pipe(Layer.provide(EmulatorStorage.layerDisk({ dataDir: "/var/lib/cos" })))

// tests: 127.0.0.1, port 0, in-memory storage; `yield* Emulator.Emulator` gives { url, port, host, auth }
export const test = Emulator.layerTest({ requireParent: true })
