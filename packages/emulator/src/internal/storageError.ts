import * as Schema from "effect/Schema"

/**
 * A failure of the emulator's storage (database or files).
 *
 * @internal
 */
export class StorageError extends Schema.TaggedError<StorageError>("@cos-v4/emulator/StorageError")("StorageError", {
  reason: Schema.Literal("Io", "Sql"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}
