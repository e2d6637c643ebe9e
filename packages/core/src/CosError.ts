/**
 * The designed error model of cos-v4: every failure a server or the client can produce, as tagged errors
 * with a `reason` literal, the raw values needed to act on it, and a recovery class that retry policies read.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as internal from "./internal/serverCodes.js"

/**
 * How a failure may be recovered from:
 * - `retry`: transient; send the same request again after a delay (the caller's `Schedule`).
 * - `resign`: the signature was rejected as expired/replayed/malformed; sign again and resend at once.
 * - `resync`: the client's view of the upload is stale; ask the server (`upload_slice_list`) and continue.
 * - `never`: permanent; fail the operation.
 *
 * @since 0.1.0
 * @category models
 */
export type Recovery = internal.Recovery

/**
 * @since 0.1.0
 * @category schemas
 */
export const Recovery: Schema.Literal<["retry", "resign", "resync", "never"]> = Schema.Literal(
  "retry",
  "resign",
  "resync",
  "never"
)

/**
 * The ops of the v4 API.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Op = Schema.Literal(
  "upload",
  "upload_slice_init",
  "upload_slice_data",
  "upload_slice_list",
  "upload_slice_finish",
  "stat",
  "delete",
  "create",
  "list",
  "update",
  "move",
  "copy"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Op = typeof Op.Type

/**
 * The symbolic reasons a server failure can carry (`Unknown` keeps codes that are in no table).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerReason: Schema.Literal<[...typeof internal.serverReasons]> = Schema.Literal(
  ...internal.serverReasons
)

/**
 * @since 0.1.0
 * @category models
 */
export type ServerReason = internal.ServerReason

const context = {
  op: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String)
}

/**
 * A failure answered by the server in a JSON envelope (`code != 0`).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("@cos-v4/core/ServerError")("ServerError", {
  reason: ServerReason,
  code: Schema.Number,
  serverMessage: Schema.String,
  requestId: Schema.optional(Schema.String),
  status: Schema.Number,
  ...context
}) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    if (this.reason === "Unknown") return this.status >= 500 || this.status === 429 ? "retry" : "never"
    return internal.forReason(this.reason)?.recovery ?? "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.op ?? "request"} ${this.path ?? ""} failed: ${this.code} ${this.serverMessage} (HTTP ${this.status}${
      this.requestId === undefined ? "" : `, request ${this.requestId}`
    })`
  }
}

/**
 * An HTTP answer without a usable JSON envelope: a 5xx page, a gateway's XML `400 InvalidRequest`, the 404
 * of `upload_slice_list` when nothing is in progress, a body that is not JSON.
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpStatusError extends Schema.TaggedError<HttpStatusError>("@cos-v4/core/HttpStatusError")(
  "HttpStatusError",
  {
    reason: Schema.Literal("NotFound", "ClientError", "ServerError", "NotJson", "BadEnvelope"),
    status: Schema.Number,
    body: Schema.String,
    requestId: Schema.optional(Schema.String),
    ...context
  }
) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return this.status >= 500 || this.status === 429 || this.status === 408 ? "retry" : "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.op ?? "request"} ${this.path ?? ""}: HTTP ${this.status} (${this.reason}) ${this.body.slice(0, 200)}`
  }
}

/**
 * The request did not complete at the transport level.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@cos-v4/core/TransportError")(
  "TransportError",
  {
    reason: Schema.Literal("Timeout", "Stalled", "Reset", "Refused", "Aborted", "Other"),
    detail: Schema.optional(Schema.String),
    cause: Schema.optional(Schema.Defect),
    ...context
  }
) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return "retry"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.op ?? "request"} ${this.path ?? ""}: transport ${this.reason}${
      this.detail === undefined ? "" : `: ${this.detail}`
    }`
  }
}

/**
 * The server answered, but its data did not have the documented shape (e.g. an init reply without a
 * `session`, a string where a number belongs).
 *
 * @since 0.1.0
 * @category errors
 */
export class ProtocolError extends Schema.TaggedError<ProtocolError>("@cos-v4/core/ProtocolError")("ProtocolError", {
  reason: Schema.Literal("Decode", "Unexpected"),
  detail: Schema.String,
  requestId: Schema.optional(Schema.String),
  ...context
}) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.op ?? "request"} ${this.path ?? ""}: unexpected answer: ${this.detail}`
  }
}

/**
 * A caller's argument was rejected before anything was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>("@cos-v4/core/InvalidArgument")(
  "InvalidArgument",
  {
    reason: Schema.Literal("InvalidPath", "InvalidOption", "InvalidSliceSize", "InvalidSize", "InvalidCredentials"),
    argument: Schema.String,
    detail: Schema.String
  }
) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `invalid ${this.argument}: ${this.detail}`
  }
}

/**
 * The local source of an upload could not be read, or changed while (or since) it was uploaded.
 *
 * @since 0.1.0
 * @category errors
 */
export class SourceError extends Schema.TaggedError<SourceError>("@cos-v4/core/SourceError")("SourceError", {
  reason: Schema.Literal("NotFound", "NotAFile", "ReadFailed", "Changed", "SizeMismatch"),
  source: Schema.String,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `source ${this.source}: ${this.reason}: ${this.detail}`
  }
}

/**
 * The checkpoint store failed. A corrupt record is never an error for the uploader (it reads as "no
 * checkpoint"); it is reported here only by explicit reads.
 *
 * @since 0.1.0
 * @category errors
 */
export class CheckpointError extends Schema.TaggedError<CheckpointError>("@cos-v4/core/CheckpointError")(
  "CheckpointError",
  {
    reason: Schema.Literal("Corrupt", "Locked", "Io"),
    key: Schema.String,
    detail: Schema.String,
    cause: Schema.optional(Schema.Defect)
  }
) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return this.reason === "Io" ? "retry" : "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `checkpoint ${this.key}: ${this.reason}: ${this.detail}`
  }
}

/**
 * A signature could not be produced (e.g. a signing endpoint of the application failed).
 *
 * @since 0.1.0
 * @category errors
 */
export class SigningError extends Schema.TaggedError<SigningError>("@cos-v4/core/SigningError")("SigningError", {
  reason: Schema.Literal("Unavailable", "InvalidCredentials"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect),
  ...context
}) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return this.reason === "Unavailable" ? "retry" : "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `signing ${this.op ?? ""} ${this.path ?? ""}: ${this.reason}: ${this.detail}`
  }
}

/**
 * One failure of an attempt, kept in the history of an {@link UploadFailed}.
 *
 * @since 0.1.0
 * @category models
 */
export const AttemptFailure = Schema.Struct({
  tag: Schema.String,
  reason: Schema.String,
  recovery: Recovery,
  message: Schema.String,
  code: Schema.optional(Schema.Number),
  status: Schema.optional(Schema.Number),
  requestId: Schema.optional(Schema.String),
  op: Schema.optional(Schema.String),
  offset: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type AttemptFailure = typeof AttemptFailure.Type

/**
 * An upload ended in failure: `Terminal` (an error that no retry can fix) or `RetriesExhausted` (the retry
 * schedule gave up). `failures` lists every failure met on the way (each retried attempt), in order, so nothing
 * is hidden behind the first or the last; the last one ended the upload. A discarded upload (cancel policy
 * `discard`) ends interrupted, not failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class UploadFailed extends Schema.TaggedError<UploadFailed>("@cos-v4/core/UploadFailed")("UploadFailed", {
  reason: Schema.Literal("Terminal", "RetriesExhausted"),
  path: Schema.String,
  attempts: Schema.Number,
  acknowledgedBytes: Schema.Number,
  failures: Schema.Array(AttemptFailure),
  session: Schema.optional(Schema.String)
}) {
  /**
   * @since 0.1.0
   */
  get recovery(): Recovery {
    return "never"
  }
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const last = this.failures[this.failures.length - 1]
    return `upload of ${this.path} failed (${this.reason}) after ${this.attempts} attempt(s), ${this.acknowledgedBytes} bytes acknowledged${
      last === undefined ? "" : `: ${last.message}`
    }`
  }
}

/**
 * Every error of cos-v4.
 *
 * @since 0.1.0
 * @category errors
 */
export type CosError =
  | ServerError
  | HttpStatusError
  | TransportError
  | ProtocolError
  | InvalidArgument
  | SourceError
  | CheckpointError
  | SigningError
  | UploadFailed

/**
 * @since 0.1.0
 * @category schemas
 */
export const CosError: Schema.Union<[
  typeof ServerError,
  typeof HttpStatusError,
  typeof TransportError,
  typeof ProtocolError,
  typeof InvalidArgument,
  typeof SourceError,
  typeof CheckpointError,
  typeof SigningError,
  typeof UploadFailed
]> = Schema.Union(
  ServerError,
  HttpStatusError,
  TransportError,
  ProtocolError,
  InvalidArgument,
  SourceError,
  CheckpointError,
  SigningError,
  UploadFailed
)

const tags: ReadonlySet<string> = new Set([
  "ServerError",
  "HttpStatusError",
  "TransportError",
  "ProtocolError",
  "InvalidArgument",
  "SourceError",
  "CheckpointError",
  "SigningError",
  "UploadFailed"
])

/**
 * @since 0.1.0
 * @category guards
 */
export const isCosError = (u: unknown): u is CosError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) &&
  Predicate.hasProperty(u, "recovery")

/**
 * @since 0.1.0
 * @category guards
 */
export const isServerError: (u: unknown) => u is ServerError = Schema.is(ServerError)

/**
 * @since 0.1.0
 * @category guards
 */
export const isTransportError: (u: unknown) => u is TransportError = Schema.is(TransportError)

/**
 * The recovery class of any error of the union.
 *
 * @since 0.1.0
 * @category error handling
 */
export const recoveryOf = (error: CosError): Recovery => error.recovery

/**
 * Whether the error is transient enough to retry (the default `while` of retry policies).
 *
 * @since 0.1.0
 * @category error handling
 */
export const isRetryable = (error: CosError): boolean => error.recovery === "retry"

/**
 * The one total mapping from a server envelope's `code`/`message` to a typed error. A known message wins
 * over the number (messages are the stabler identifier); a code in no table keeps its raw values with
 * reason `Unknown`. It never drops information.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromServer = (options: {
  readonly code: number
  readonly message: string
  readonly requestId?: string | undefined
  readonly status: number
  readonly op?: string | undefined
  readonly path?: string | undefined
}): ServerError => {
  const known = internal.lookup(options.code, options.message)
  return new ServerError({
    reason: known?.reason ?? "Unknown",
    code: options.code,
    serverMessage: options.message,
    status: options.status,
    ...(options.requestId === undefined ? {} : { requestId: options.requestId }),
    ...(options.op === undefined ? {} : { op: options.op }),
    ...(options.path === undefined ? {} : { path: options.path })
  }, { disableValidation: true })
}

/**
 * The numeric code, symbolic message and HTTP status the server sends for a reason (used by the emulator,
 * and to document the table). `Unknown` has no entry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const codeOf = (
  reason: Exclude<ServerReason, "Unknown">
): { readonly code: number; readonly message: string; readonly status: number; readonly recovery: Recovery } => {
  const e = internal.forReason(reason)!
  return { code: e.code, message: e.message, status: e.status, recovery: e.recovery }
}

/**
 * The whole code table, for documentation and tests.
 *
 * @since 0.1.0
 * @category models
 */
export const codeTable: ReadonlyArray<{
  readonly reason: ServerReason
  readonly code: number
  readonly message: string
  readonly recovery: Recovery
  readonly status: number
  readonly attested: boolean
  readonly description: string
}> = internal.table

/**
 * A compact, serialisable summary of an error, for histories and logs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toAttemptFailure = (error: CosError, offset?: number): AttemptFailure => ({
  tag: error._tag,
  reason: error.reason,
  recovery: error.recovery,
  message: error.message,
  ...("code" in error && typeof error.code === "number" ? { code: error.code } : {}),
  ...("status" in error && typeof error.status === "number" ? { status: error.status } : {}),
  ...("requestId" in error && typeof error.requestId === "string" ? { requestId: error.requestId } : {}),
  ...("op" in error && typeof error.op === "string" ? { op: error.op } : {}),
  ...(offset === undefined ? {} : { offset })
})
