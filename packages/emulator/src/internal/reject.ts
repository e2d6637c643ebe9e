import * as CosError from "@cos-v4/core/CosError"
import * as Schema from "effect/Schema"

/**
 * A request refused with one of core's server reasons; rendered as an error envelope.
 *
 * @internal
 */
export class Reject extends Schema.TaggedError<Reject>("@cos-v4/emulator/Reject")("Reject", {
  reason: CosError.ServerReason,
  detail: Schema.String,
  status: Schema.optional(Schema.Number)
}) {}

/** @internal */
export const reject = (
  reason: Exclude<CosError.ServerReason, "Unknown">,
  detail: string,
  status?: number
): Reject => new Reject(status === undefined ? { reason, detail } : { reason, detail, status })
