// Generated from docs/uploading.md (code block 3) by scripts/codegen.mjs: do not edit.
import * as BufferPool from "@cos-v4/slicer/BufferPool"
import * as Effect from "effect/Effect"

// uploads in `program` allocate their own buffers and keep none when they end
export const withoutReuse = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.provide(program, BufferPool.layer({ maxIdleBytes: 0 }))
