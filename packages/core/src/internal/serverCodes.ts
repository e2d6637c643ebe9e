/**
 * The table of server codes: numeric code ↔ symbolic message ↔ reason ↔ recovery class.
 *
 * Codes attested in the wild (protocol.md §5.1) keep their numbers and messages. The real server's numbers
 * for the symbolic-only messages and for the local-validation failures are unknown; the numbers marked
 * `chosen` are this project's decision (documented in docs/errors.md and docs/emulator.md) so that our
 * emulator and our client agree.
 */

/** @internal */
export type Recovery = "retry" | "resign" | "resync" | "never"

/** @internal */
export interface CodeEntry {
  readonly reason: ServerReason
  readonly code: number
  readonly message: string
  readonly recovery: Recovery
  readonly status: number
  readonly attested: boolean
  readonly description: string
}

/** @internal */
export const serverReasons = [
  "UploadNotFinished",
  "SameFileUploaded",
  "ShaRequired",
  "NoSuchOp",
  "SignatureMalformed",
  "AuthFailed",
  "AuthExpired",
  "BucketMismatch",
  "AppIdMismatch",
  "SignatureReplayed",
  "SignatureScope",
  "PathConflict",
  "NotFound",
  "ParentNotFound",
  "DirectoryNotEmpty",
  "InvalidParameter",
  "InvalidPath",
  "InvalidSliceSize",
  "InvalidOffset",
  "InvalidSliceLength",
  "SessionNotFound",
  "SessionMismatch",
  "SliceMissing",
  "SizeMismatch",
  "ShaMismatch",
  "PartsMismatch",
  "Md5Mismatch",
  "TooLarge",
  "TooManySessions",
  "RequestTimeout",
  "InternalError",
  "Unknown"
] as const

/** @internal */
export type ServerReason = typeof serverReasons[number]

const entry = (
  reason: ServerReason,
  code: number,
  message: string,
  recovery: Recovery,
  status: number,
  attested: boolean,
  description: string
): CodeEntry => ({ reason, code, message, recovery, status, attested, description })

/** @internal */
export const table: ReadonlyArray<CodeEntry> = [
  entry(
    "UploadNotFinished",
    -4019,
    "_ERROR_FILE_NOT_FINISH_UPLOAD",
    "resync",
    200,
    true,
    "an unfinished slice upload exists for this path (init), or finish's filesize differs from init's"
  ),
  entry(
    "SameFileUploaded",
    -4018,
    "ERROR_SAME_FILE_UPLOAD",
    "never",
    200,
    false,
    "insertOnly=1 and a different file already exists at this path"
  ),
  entry("ShaRequired", -29094, "ERROR_CMD_SHA_REQUIRED", "never", 200, true, "finish lacks the sha given at init"),
  entry("NoSuchOp", -5964, "ERROR_CGI_PARAM_NO_SUCH_OP", "never", 200, true, "unknown op, or op not valid here"),
  entry(
    "SignatureMalformed",
    -70,
    "ERROR_PROXY_SIGN_MALFORMED",
    "resign",
    200,
    true,
    "signature missing or unparsable"
  ),
  entry("AuthFailed", -5901, "ERROR_PROXY_AUTH_FAILED", "never", 200, false, "signature does not verify"),
  entry("AuthExpired", -5902, "ERROR_PROXY_AUTH_EXPIRED", "resign", 200, false, "signature expired"),
  entry(
    "BucketMismatch",
    -5903,
    "ERROR_PROXY_SIGN_BUCKET_NOTMATCH",
    "never",
    200,
    false,
    "bucket in the URL differs from the signature's"
  ),
  entry(
    "AppIdMismatch",
    -5904,
    "ERROR_PROXY_SIGN_APPID_NOTMATCH",
    "never",
    200,
    false,
    "appid in the URL differs from the signature's"
  ),
  entry(
    "SignatureReplayed",
    -5905,
    "ERROR_PROXY_SIGN_REPLAYED",
    "resign",
    200,
    false,
    "a single-effect signature was used twice"
  ),
  entry(
    "SignatureScope",
    -5906,
    "ERROR_PROXY_SIGN_SCOPE",
    "never",
    200,
    false,
    "the signature's kind or fileid does not cover this op or resource"
  ),
  entry(
    "PathConflict",
    -4020,
    "ERROR_CMD_COS_PATH_CONFLICT",
    "never",
    200,
    false,
    "a file or directory already exists at this path"
  ),
  entry("NotFound", -4021, "ERROR_CMD_FILE_NOTEXIST", "never", 200, false, "file or directory does not exist"),
  entry(
    "ParentNotFound",
    -4022,
    "ERROR_CMD_PARENT_NOTEXIST",
    "never",
    200,
    false,
    "the parent directory does not exist"
  ),
  entry("DirectoryNotEmpty", -4023, "ERROR_CMD_DIR_NOT_EMPTY", "never", 200, false, "directory is not empty"),
  entry("InvalidParameter", -4001, "ERROR_CGI_PARAM_INVALID", "never", 200, false, "a parameter is missing or invalid"),
  entry("InvalidPath", -4002, "ERROR_CGI_PARAM_INVALID_PATH", "never", 200, false, "the path is not a valid cos path"),
  entry("InvalidSliceSize", -4003, "ERROR_CGI_PARAM_SLICE_SIZE", "never", 200, false, "slice_size is not allowed"),
  entry(
    "InvalidOffset",
    -4004,
    "ERROR_CGI_PARAM_OFFSET",
    "resync",
    200,
    false,
    "offset is negative, unaligned or past the end"
  ),
  entry(
    "InvalidSliceLength",
    -4005,
    "ERROR_CGI_PARAM_SLICE_LENGTH",
    "resync",
    200,
    false,
    "the slice length does not match the session's slice plan"
  ),
  entry("SessionNotFound", -4006, "ERROR_SESSION_NOT_FOUND", "resync", 200, false, "unknown or expired session"),
  entry(
    "SessionMismatch",
    -4007,
    "ERROR_SESSION_PATH_MISMATCH",
    "resync",
    200,
    false,
    "the session belongs to another path"
  ),
  entry("SliceMissing", -4008, "ERROR_SLICE_MISSING", "resync", 200, false, "finish before every slice arrived"),
  entry("SizeMismatch", -4009, "ERROR_FILESIZE_MISMATCH", "never", 200, false, "file size differs from the session's"),
  entry("ShaMismatch", -4010, "ERROR_SHA_MISMATCH", "never", 200, false, "the assembled file's SHA-1 differs from sha"),
  entry(
    "PartsMismatch",
    -4011,
    "ERROR_UPLOADPARTS_MISMATCH",
    "never",
    200,
    false,
    "uploadparts is inconsistent, or a datasha differs from the assembled file"
  ),
  entry("Md5Mismatch", -4012, "ERROR_DATAMD5_MISMATCH", "retry", 200, false, "the slice's MD5 differs from datamd5"),
  entry("TooLarge", -4013, "ERROR_REQUEST_TOO_LARGE", "never", 413, false, "the request body or a field is too large"),
  entry(
    "TooManySessions",
    -4014,
    "ERROR_TOO_MANY_SESSIONS",
    "retry",
    429,
    false,
    "too many unfinished uploads in this bucket"
  ),
  entry("RequestTimeout", -4015, "ERROR_REQUEST_TIMEOUT", "retry", 408, false, "the request body arrived too slowly"),
  entry("InternalError", -5000, "ERROR_INTERNAL", "retry", 500, false, "the server failed internally")
]

const byCode = new Map<number, CodeEntry>(table.map((e) => [e.code, e]))
const byMessage = new Map<string, CodeEntry>(table.map((e) => [e.message, e]))
const byReason = new Map<ServerReason, CodeEntry>(table.map((e) => [e.reason, e]))

/** @internal */
export const lookup = (code: number, message: string): CodeEntry | undefined => {
  const m = byMessage.get(message)
  if (m !== undefined) return m
  return byCode.get(code)
}

/** @internal */
export const forReason = (reason: ServerReason): CodeEntry | undefined => byReason.get(reason)
