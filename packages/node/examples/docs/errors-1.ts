// Generated from docs/errors.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as Effect from "effect/Effect"
import * as Uploader from "@cos-v4/slicer/Uploader"

export const program = Uploader.uploadFile("./big.bin", "/backups/big.bin").pipe(
  Effect.catchTags({
    // every failure met on the way is in `failures`; the last one ended the upload (e.g. a SourceError)
    UploadFailed: (e) => Effect.logError(`gave up after ${e.attempts} attempts`, e.failures),
    InvalidArgument: (e) => Effect.logError(e.message)
  })
)
