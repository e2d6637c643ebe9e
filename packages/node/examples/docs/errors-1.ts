// Generated from docs/errors.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as Effect from "effect/Effect"
import * as Uploader from "@cos-v4/slicer/Uploader"

export const program = Uploader.uploadFile("./big.bin", "/backups/big.bin").pipe(
  Effect.catchTags({
    UploadFailed: (e) => Effect.logError(`gave up after ${e.attempts} attempts`, e.failures),
    SourceError: (e) => Effect.logError(`local file problem: ${e.reason}`),
    InvalidArgument: (e) => Effect.logError(e.message)
  })
)
