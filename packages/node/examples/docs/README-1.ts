// Generated from README.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as NodeCos from "@cos-v4/node/NodeCos"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

// Transient failures: retry after 500 ms, 1 s, 2 s, … (jittered, each delay ≤ 5 s), 10 retries at most.
// The budget is shared by all slices and restored whenever acknowledged bytes advance.
const retrySchedule = Schedule.exponential(Duration.millis(500)).pipe(
  Schedule.jittered,
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(5))),
  Schedule.intersect(Schedule.recurs(10))
)

const program = Effect.gen(function*() {
  const receipt = yield* Uploader.uploadFile("./backup.tar", "/backups/backup.tar", { retrySchedule })
  yield* Effect.log(`stored ${receipt.fileSize} bytes as ${receipt.path}`)
  yield* Effect.log(`sha1 ${receipt.sha1}, ${receipt.slicesSkipped} slices resumed, ${receipt.retries} retries`)
})

// COS_ENDPOINT, COS_APPID, COS_BUCKET, COS_SECRET_ID and COS_SECRET_KEY come from the environment.
program.pipe(Effect.provide(NodeCos.layerConfig()), NodeRuntime.runMain)
