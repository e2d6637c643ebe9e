/**
 * Resolved emulator settings (Emulator.Options with defaults applied).
 *
 * @internal
 */
import type * as Redacted from "effect/Redacted"

/** @internal */
export interface Config {
  readonly host: string
  readonly port: number
  readonly appId: string | undefined
  readonly buckets: ReadonlySet<string>
  readonly credentials: ReadonlyMap<string, Redacted.Redacted<string>>
  readonly auth: "off" | "lenient" | "strict"
  readonly checkExpiryOnSliceData: boolean
  readonly clockSkewSeconds: number
  readonly requireParent: boolean
  readonly sessionTtlSeconds: number
  readonly maxSessionsPerBucket: number
  readonly maxFileSize: number
  readonly maxSimpleUploadSize: number
  readonly maxBodyBytes: number
  readonly maxListNum: number
  readonly idleTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly headersTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxHeaderSize: number
  readonly sweepIntervalMs: number
}
