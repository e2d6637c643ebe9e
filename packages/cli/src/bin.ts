#!/usr/bin/env node
/**
 * The `cos` executable.
 *
 * @since 0.1.0
 */
import * as CosError from "@cos-v4/core/CosError"
import * as NativeHeap from "@cos-v4/native/NativeHeap"
import * as NodeMemory from "@cos-v4/node/NodeMemory"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as v8 from "node:v8"
import * as Cli from "./Cli.js"
import * as ExitCode from "./ExitCode.js"
import * as InvocationDirectory from "./internal/invocationDirectory.js"

InvocationDirectory.adopt()

// Full collections would otherwise run every few MB of promoted request objects (V8 keeps the old generation's
// limit just above the live heap); a growth factor of 3 keeps them rare. The embedded emulator measured up to
// 2 ms of GC CPU per 1 MiB slice without it (see packages/emulator/src/bin.ts). This process owns its heap.
v8.setFlagsFromString("--heap-growing-percent=200")
// Freed request bodies stay in the C heap instead of being faulted in again per slice (see NativeHeap)
NativeHeap.unsafeRetainFreed()
// Uploads would grow V8's young generation to 2 × 16 MiB after some GiB (see NodeMemory); the old
// generation keeps the growth factor of 3 set above, for the embedded emulator
NodeMemory.unsafeBound({ oldGenerationGrowthPercent: 200 })

const hint = (error: CosError.CosError): string | undefined => {
  const last = error._tag === "UploadFailed" ? error.failures[error.failures.length - 1] : undefined
  const tag = last?.tag ?? error._tag
  const reason = last?.reason ?? error.reason
  switch (ExitCode.of(error)) {
    case ExitCode.Source:
      return "check the local file's path; if it changed since the last attempt, the upload starts over when rerun"
    case ExitCode.Auth:
      return "check --secret-id/--secret-key (or COS_SECRET_ID/COS_SECRET_KEY) and that the appid and bucket match"
    case ExitCode.Network:
      return tag === "TransportError" && reason === "Refused"
        ? "nothing answers at the endpoint: check --endpoint (or COS_ENDPOINT), or start one with `cos serve`"
        : "the network or the server failed repeatedly; rerun the same command to resume where it stopped"
    case ExitCode.NotFoundOrConflict:
      return reason === "SameFileUploaded" || reason === "PathConflict"
        ? "a different file already exists there: pass --overwrite to replace it"
        : undefined
    case ExitCode.Checkpoint:
      return "another cos process is uploading to the same target; wait for it or stop it"
    case ExitCode.Usage:
      return "see `cos --help`"
    default:
      return undefined
  }
}

const report = (cause: Cause.Cause<unknown>): number => {
  if (Cause.isInterruptedOnly(cause)) return ExitCode.Interrupted
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") {
    const error = failure.value
    if (ValidationError.isValidationError(error)) return ExitCode.Usage
    if (CosError.isCosError(error)) {
      const h = hint(error)
      process.stderr.write(`cos: ${error.message}\n${h === undefined ? "" : `  ${h}\n`}`)
      return ExitCode.of(error)
    }
    if (typeof error === "object" && error !== null && "message" in error) {
      process.stderr.write(`cos: ${String(error.message)}\n`)
      return ExitCode.Unexpected
    }
  }
  process.stderr.write(`cos: unexpected failure (please report it):\n${Cause.pretty(cause)}\n`)
  return ExitCode.Unexpected
}

Cli.run(process.argv).pipe(
  Effect.provide(NodeContext.layer),
  Logger.withMinimumLogLevel(LogLevel.Warning),
  Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? ExitCode.Success : report(exit.cause))
  })
)
