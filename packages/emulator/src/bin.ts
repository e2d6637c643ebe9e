#!/usr/bin/env node
/**
 * `pnpm emulator` / `cos-emulator`: runs the v4 emulator on disk storage.
 *
 *   --host 127.0.0.1  --port 0  --data-dir DIR  --appid N  --bucket B (repeatable)
 *   --credential ID:KEY (repeatable)  --auth off|lenient|strict  --require-parent  --fsync
 *   --session-ttl SECONDS  --max-sessions N  --check-slice-expiry
 *
 * Prints exactly one line `listening on http://HOST:PORT` on stdout when ready; logs go to stderr.
 * SIGINT/SIGTERM close the server and the database.
 *
 * @since 0.1.0
 */
import * as NativeHeap from "@cos-v4/native/NativeHeap"
import * as NativeSha1 from "@cos-v4/native/NativeSha1"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as v8 from "node:v8"
import * as Auth from "./Auth.js"
import * as Emulator from "./Emulator.js"
import * as EmulatorStorage from "./EmulatorStorage.js"

// V8 sets the old generation's limit just above the live heap (~25 MB here). Each slice promotes in-flight
// request objects, so with the default growth a full collection ran every few MB: V8's helper threads took up to
// 2 ms of CPU per 1 MiB slice in some runs, against under 0.1 ms with a growth factor of 3 (200 %), which this
// process (it owns its heap) sets for itself.
v8.setFlagsFromString("--heap-growing-percent=200")
// Freed request bodies stay in the C heap instead of being faulted in again for the next slice (see NativeHeap)
NativeHeap.unsafeRetainFreed()

const usage = "usage: cos-emulator [--host H] [--port P] [--data-dir DIR] [--appid N] [--bucket B]... " +
  "[--credential ID:KEY]... [--auth off|lenient|strict] [--require-parent] [--fsync] [--session-ttl S] " +
  "[--max-sessions N] [--check-slice-expiry]"

const die = (message: string): never => {
  process.stderr.write(`${message}\n${usage}\n`)
  process.exit(2)
}

const { values } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "0" },
        "data-dir": { type: "string" },
        appid: { type: "string" },
        bucket: { type: "string", multiple: true },
        credential: { type: "string", multiple: true },
        auth: { type: "string" },
        "require-parent": { type: "boolean", default: false },
        fsync: { type: "boolean", default: false },
        // the former opt-out, now the default: accepted and ignored
        "no-fsync": { type: "boolean", default: false },
        "session-ttl": { type: "string" },
        "max-sessions": { type: "string" },
        "check-slice-expiry": { type: "boolean" },
        help: { type: "boolean", short: "h" }
      },
      strict: true
    })
  } catch (e) {
    return die(String((e as Error).message))
  }
})()

if (values.help === true) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}

const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) die(`invalid --port ${values.port}`)
const auth = values.auth
if (auth !== undefined && auth !== "off" && auth !== "lenient" && auth !== "strict") die(`invalid --auth ${auth}`)
const credentials = (values.credential ?? []).map((c) =>
  Option.getOrElse(Auth.parseCredential(c), () => die("invalid --credential (expected ID:KEY)"))
)
const positive = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined
  const n = Number(v)
  return Number.isSafeInteger(n) && n > 0 ? n : die(`invalid --${name} ${v}`)
}
const ttl = positive("session-ttl", values["session-ttl"])
const maxSessions = positive("max-sessions", values["max-sessions"])
// under `pnpm emulator` the script runs in packages/emulator; relative paths are meant from where pnpm was invoked
const baseDir = process.env["INIT_CWD"] ?? process.cwd()
const dataDir = path.resolve(baseDir, values["data-dir"] ?? path.join(os.homedir(), ".cos-v4-emulator"))

const options: Emulator.Options = {
  host: values.host,
  port,
  appId: values.appid,
  buckets: values.bucket ?? [],
  credentials,
  auth: auth as Emulator.Options["auth"],
  requireParent: values["require-parent"],
  checkExpiryOnSliceData: values["check-slice-expiry"],
  sessionTtl: ttl === undefined ? undefined : Duration.seconds(ttl),
  maxSessionsPerBucket: maxSessions
}

const main = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  process.stdout.write(`listening on ${emulator.url}\n`)
  return yield* Effect.never
})

main.pipe(
  Effect.provide(
    Emulator.layer(options).pipe(
      Layer.provide(EmulatorStorage.layerDisk({ dataDir, fsync: values.fsync && !values["no-fsync"] })),
      // the native SHA-1 hashes slices on a thread of its own (pure TypeScript when the addon is not built)
      Layer.provide(NativeSha1.layer)
    )
  ),
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
