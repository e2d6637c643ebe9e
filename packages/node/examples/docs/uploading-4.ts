// Generated from docs/uploading.md (code block 4) by scripts/codegen.mjs: do not edit.
import * as NodeMemory from "@cos-v4/node/NodeMemory"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"

const main = Effect.gen(function*() {
  // first thing in the program: it applies to the whole process from now on
  yield* NodeMemory.bound()
  // ... the uploads
})

NodeRuntime.runMain(main)
