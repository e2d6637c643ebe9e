// Generated from docs/progress.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as NodeUploadSource from "@cos-v4/node/NodeUploadSource"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as UploadEvent from "@cos-v4/slicer/UploadEvent"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

export const withProgress = Uploader.uploadWithProgress(NodeUploadSource.fromFile("./big.bin"), "/big.bin").pipe(
  Stream.tap((event) =>
    event._tag === "SliceAcknowledged" || event._tag === "Completed"
      ? Console.log(`${UploadEvent.percent(event)}%`)
      : event._tag === "Retrying"
      ? Console.log(`retrying ${event.op} (attempt ${event.attempt}): ${event.error.message}`)
      : Effect.void
  ),
  Stream.runLast
)
