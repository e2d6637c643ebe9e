import * as Emulator from "@cos-v4/emulator/Emulator"
import * as NodeCos from "@cos-v4/node/NodeCos"
import * as Cos from "@cos-v4/slicer/Cos"
import { assert, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import {
  appId,
  bucket,
  emulatorCredentials,
  MiB,
  secretId,
  secretKey,
  sha1OfFile,
  tempDir,
  writeFile
} from "./helpers.js"

const repo = Path.resolve(import.meta.dirname, "../../..")
const tsx = Path.join(repo, "node_modules/.bin/tsx")
const example = Path.join(repo, "packages/node/examples/docs/README-1.ts")

const run = (cwd: string, env: Record<string, string>) =>
  Effect.async<{ code: number | null; output: string }>((resume) => {
    const child = spawn(tsx, [example], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    child.on("close", (code) => resume(Effect.succeed({ code, output })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

layer(Emulator.layerTest({ appId, buckets: [bucket], credentials: emulatorCredentials, auth: "strict" }), {
  timeout: 60_000,
  excludeTestServices: true // the emulator, this test and the example process share the real clock (signatures)
})("README quick start", (it) => {
  it.scoped("compiles, runs against the emulator, and stores the file with the sha it logs", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const dir = tempDir("quickstart")
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
      const file = writeFile(Path.join(dir, "backup.tar"), 9 * MiB + 5)
      const sha = sha1OfFile(file)
      const { code, output } = yield* run(dir, {
        COS_ENDPOINT: emulator.url,
        COS_APPID: appId,
        COS_BUCKET: bucket,
        COS_SECRET_ID: secretId,
        COS_SECRET_KEY: secretKey,
        COS_CHECKPOINT_DIR: Path.join(dir, "checkpoints")
      })
      assert.strictEqual(code, 0, output)
      assert.include(output, `sha1 ${sha}`)
      assert.include(output, "stored 9437189 bytes as /backups/backup.tar")
      const stat = yield* Cos.stat("/backups/backup.tar").pipe(
        Effect.provide(NodeCos.layer({
          endpoint: emulator.url,
          appId,
          bucket,
          credentials: { secretId, secretKey: Redacted.make(secretKey) },
          checkpointDir: Path.join(dir, "checkpoints")
        }))
      )
      assert.strictEqual(stat.sha, sha)
      assert.strictEqual(stat.filesize, 9 * MiB + 5)
    }))
})
