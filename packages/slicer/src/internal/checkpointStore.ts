import { CheckpointError } from "@cos-v4/core/CosError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Checkpoint, CheckpointStore } from "../CheckpointStore.js"
import { CheckpointFromJson } from "../CheckpointStore.js"

// resolved lazily: CheckpointStore.ts imports this module
const decode = (text: string) => Schema.decodeUnknownOption(CheckpointFromJson)(text)
const encode = (checkpoint: Checkpoint) => Schema.encodeSync(CheckpointFromJson)(checkpoint)

/** @internal */
export const makeMemory: Effect.Effect<CheckpointStore.Service> = Effect.sync(() => {
  const records = new Map<string, string>()
  const locks = new Set<string>()
  return {
    load: (key) => Effect.sync(() => Option.flatMap(Option.fromNullable(records.get(key)), decode)),
    save: (key, checkpoint) =>
      Effect.sync(() => {
        records.set(key, encode(checkpoint))
      }),
    remove: (key) =>
      Effect.sync(() => {
        records.delete(key)
      }),
    lock: (key) =>
      Effect.acquireRelease(
        Effect.suspend(() => {
          if (locks.has(key)) {
            return new CheckpointError({ reason: "Locked", key, detail: "another upload holds this target" })
          }
          locks.add(key)
          return Effect.void
        }),
        () =>
          Effect.sync(() => {
            locks.delete(key)
          })
      )
  }
})

/** @internal */
export const noop: CheckpointStore.Service = {
  load: () => Effect.succeedNone,
  save: () => Effect.void,
  remove: () => Effect.void,
  lock: () => Effect.void
}
