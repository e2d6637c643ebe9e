// Generated from docs/retries.md (code block 1) by scripts/codegen.mjs: do not edit.
import type * as CosError from "@cos-v4/core/CosError"
import * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"

// Fibonacci delays from 100 ms, each ≤ 30 s, at most 20 retries, and give up at once on HTTP 5xx
// answers that say the service is down for maintenance (503).
export const patient: Schedule.Schedule<unknown, CosError.CosError> = Schedule.fibonacci(Duration.millis(100)).pipe(
  Schedule.modifyDelay((_, d) => Duration.min(d, Duration.seconds(30))),
  Schedule.intersect(Schedule.recurs(20)),
  Schedule.whileInput((error: CosError.CosError) => !(error._tag === "HttpStatusError" && error.status === 503))
)

export const upload = Uploader.uploadFile("./a.bin", "/a.bin", { retrySchedule: patient })

// or for every upload beneath this point:
export const uploads = Uploader.uploadFile("./b.bin", "/b.bin").pipe(UploadOptions.withRetrySchedule(patient))
