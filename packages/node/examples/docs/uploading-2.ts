// Generated from docs/uploading.md (code block 2) by scripts/codegen.mjs: do not edit.
import * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as Effect from "effect/Effect"

// everything inside uses 8 slices in flight and inline hashing, unless an explicit option says otherwise
export const nightlyBackup = Effect.all([
  Uploader.uploadFile("./db.dump", "/backups/db.dump"),
  Uploader.uploadFile("./media.tar", "/backups/media.tar")
]).pipe(UploadOptions.withConcurrency(8), UploadOptions.withIntegrity("inline"))
