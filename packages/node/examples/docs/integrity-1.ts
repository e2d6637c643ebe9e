// Generated from docs/integrity.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as Effect from "effect/Effect"

// one pass over a large file on slow storage: hash inline, verify with stat afterwards
export const archive = Uploader.uploadFile("/mnt/slow/archive.tar", "/archive.tar", { integrity: "inline" }).pipe(
  Effect.tap((receipt) => Effect.log(`verified by ${receipt.verifiedBy}: ${receipt.sha1}`))
)
