/**
 * `pnpm demo`: the main job of the README. Generates a sample file, uploads it with the live progress display
 * to the embedded emulator (data in ./.cos-data), prints the receipt and the server's `stat`, and checks that
 * the server's sha equals the local file's.
 *
 * @since 0.1.0
 */
import * as Cos from "@cos-v4/slicer/Cos"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Cli from "./Cli.js"
import * as Connection from "./Connection.js"
import * as Client from "./internal/client.js"
import * as InvocationDirectory from "./internal/invocationDirectory.js"

const sizeMiB = Number(process.env.COS_DEMO_MIB ?? "48")
InvocationDirectory.adopt()
const dir = path.resolve(".cos-demo")
const file = path.join(dir, `sample-${sizeMiB}MiB.bin`)

const generate = Effect.sync(() => {
  fs.mkdirSync(dir, { recursive: true })
  const fd = fs.openSync(file, "w")
  const chunk = Buffer.allocUnsafe(1 << 20)
  const hash = crypto.createHash("sha1")
  for (let i = 0; i < sizeMiB; i++) {
    crypto.randomFillSync(chunk)
    hash.update(chunk)
    fs.writeSync(fd, chunk)
  }
  fs.closeSync(fd)
  return hash.digest("hex")
})

const program = Effect.gen(function*() {
  const localSha = yield* generate
  const target = `/demo/sample-${localSha.slice(0, 8)}.bin`
  process.stdout.write(`generated ${path.relative(process.cwd(), file)}: ${sizeMiB} MiB of random bytes\n`)
  process.stdout.write(`\n$ cos upload ${path.relative(process.cwd(), file)} ${target}\n`)
  process.stderr.write(
    `no endpoint configured: using an embedded emulator (data in ./${Connection.embeddedDataDir})\n`
  )
  const resolved = {
    _tag: "Embedded" as const,
    ...Connection.embeddedDefaults,
    dataDir: Connection.embeddedDataDir
  }
  yield* Effect.gen(function*() {
    const receipt = yield* Cli.uploadWithDisplay(Client.fileSource(file), target, path.basename(file))
    process.stdout.write(Cli.formatReceipt(path.relative(process.cwd(), file), receipt))
    process.stdout.write(`\n$ cos stat ${target}\n`)
    const stat = yield* Cos.stat(target)
    process.stdout.write(
      `name ${stat.name}  filesize ${stat.filesize}  sha ${stat.sha}  mtime ${stat.mtime}\n\n`
    )
    const matches = stat.sha === localSha && receipt.sha1 === localSha && stat.filesize === sizeMiB * 1048576
    process.stdout.write(
      `local sha1    ${localSha}\nreceipt sha1  ${receipt.sha1}\nserver sha1   ${stat.sha}\n` +
        (matches ? "✓ the server holds exactly the local bytes\n" : "✗ MISMATCH\n")
    )
    if (!matches) process.exitCode = 1
  }).pipe(Effect.provide(Client.layer(resolved, {})))
})

program.pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
