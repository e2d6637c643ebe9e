// Generated from docs/progress.md (code block 2) by scripts/codegen.mjs: do not edit.
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

// give up after 10 minutes, and leave nothing behind on the server
export const bounded = Uploader.uploadFile("./big.bin", "/big.bin", { cancelPolicy: "discard" }).pipe(
  Effect.timeout(Duration.minutes(10))
)
