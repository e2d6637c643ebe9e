/**
 * The exit codes of `cos`, one per error class, so scripts can tell what went wrong without parsing text.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | unexpected failure (a bug: please report it) |
 * | 2 | usage: bad flags, bad arguments, invalid cos path |
 * | 3 | local source: missing, unreadable or changed file |
 * | 4 | authentication: wrong credentials, expired or rejected signature |
 * | 5 | not found / conflict on the server (no such file, file exists, directory not empty) |
 * | 6 | network: endpoint unreachable, timeouts, stalls, resets, retries exhausted on them |
 * | 7 | server rejected the upload (integrity mismatch, protocol error, other server codes) |
 * | 8 | checkpoint: another process is uploading the same target, or the store failed |
 * | 130 | interrupted (Ctrl-C); the upload stays resumable unless `--discard` was given |
 *
 * @since 0.1.0
 */
import type * as CosError from "@cos-v4/core/CosError"

/**
 * @since 0.1.0
 * @category constants
 */
export const Success = 0
/**
 * @since 0.1.0
 * @category constants
 */
export const Unexpected = 1
/**
 * @since 0.1.0
 * @category constants
 */
export const Usage = 2
/**
 * @since 0.1.0
 * @category constants
 */
export const Source = 3
/**
 * @since 0.1.0
 * @category constants
 */
export const Auth = 4
/**
 * @since 0.1.0
 * @category constants
 */
export const NotFoundOrConflict = 5
/**
 * @since 0.1.0
 * @category constants
 */
export const Network = 6
/**
 * @since 0.1.0
 * @category constants
 */
export const Rejected = 7
/**
 * @since 0.1.0
 * @category constants
 */
export const Checkpoint = 8
/**
 * @since 0.1.0
 * @category constants
 */
export const Interrupted = 130

const authReasons: ReadonlySet<string> = new Set([
  "SignatureMalformed",
  "AuthFailed",
  "AuthExpired",
  "BucketMismatch",
  "AppIdMismatch",
  "SignatureReplayed",
  "SignatureScope"
])

const notFoundReasons: ReadonlySet<string> = new Set([
  "NotFound",
  "ParentNotFound",
  "PathConflict",
  "SameFileUploaded",
  "DirectoryNotEmpty"
])

/**
 * The exit code for an error of the union. For `UploadFailed` the last failure decides.
 *
 * @since 0.1.0
 * @category constructors
 */
export const of = (error: CosError.CosError): number => {
  switch (error._tag) {
    case "InvalidArgument":
      return Usage
    case "SourceError":
      return Source
    case "CheckpointError":
      return Checkpoint
    case "SigningError":
      return Auth
    case "TransportError":
      return Network
    case "HttpStatusError":
      return error.status === 401 || error.status === 403
        ? Auth
        : error.status === 404
        ? NotFoundOrConflict
        : error.status >= 500
        ? Network
        : Rejected
    case "ProtocolError":
      return Rejected
    case "ServerError":
      return ofServerReason(error.reason)
    case "UploadFailed": {
      const last = error.failures[error.failures.length - 1]
      if (last === undefined) return Rejected
      if (last.tag === "TransportError") return Network
      if (last.tag === "SourceError") return Source
      if (last.tag === "CheckpointError") return Checkpoint
      if (last.tag === "InvalidArgument") return Usage
      if (last.tag === "SigningError") return Auth
      if (last.tag === "HttpStatusError") return last.status !== undefined && last.status >= 500 ? Network : Rejected
      if (last.tag === "ServerError") return ofServerReason(last.reason)
      return Rejected
    }
  }
}

const ofServerReason = (reason: string): number =>
  authReasons.has(reason) ? Auth : notFoundReasons.has(reason) ? NotFoundOrConflict : Rejected
