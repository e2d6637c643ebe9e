/**
 * The v4 wire operations as a service over `@effect/platform`'s `HttpClient`, the `Signer` and the
 * `CosConfig`: one method per op, typed request options, typed answers, typed errors.
 *
 * Bodies are built by hand with an exact `Content-Length` (no `FormData`, no `Blob`). A payload is sent
 * with the *envelope* technique: the caller reads the content into a buffer that has `headRoom` free bytes
 * before it and `tailRoom` after it; the transport writes the multipart head right-aligned before the
 * content and the tail after it, and sends one `subarray` of that buffer (a copy is made only when the head
 * or tail do not fit).
 *
 * Time limits (read per request from `UploadOptions.RequestTimeout` / `UploadOptions.StallTimeout`; defaults 120 s
 * and 30 s):
 * - `Stalled`: no bytes moved for `stallTimeout`. An `HttpClient` that can see the bytes (the node `HttpClient` of
 *   `@cos-v4/node`: a socket idle timeout) reports it as a `RequestError` / `ResponseError` whose `description`
 *   starts with `"stalled"` (or whose cause has code `ETIMEDOUT`).
 * - `Timeout`: the complete answer (status, headers and the small JSON envelope) did not arrive within
 *   `requestTimeout` after the request was handed to the `HttpClient`: a slice on a slow link has that long.
 *
 * An `HttpClient` that applies both itself (the one of `@cos-v4/node` does, with native timers: about 80 µs less
 * CPU per request than a racing fiber) carries {@link AnswerDeadlines}; the transport then arms no timer of its
 * own. For any other client the transport cannot observe the bytes, and bounds the complete answer with one timer
 * (~25 µs per request) by the shorter of the two windows: `Stalled` when that is `stallTimeout` (so it also
 * covers sending the body: pick it larger than a slice takes on the slowest link you support), else `Timeout`.
 *
 * @since 0.1.0
 */
import type { HttpStatusError, ProtocolError, ServerError, SigningError, TransportError } from "@cos-v4/core/CosError"
import type { CosPath } from "@cos-v4/core/CosPath"
import type * as Protocol from "@cos-v4/core/Protocol"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type { CosConfig } from "./CosConfig.js"
import * as internal from "./internal/transport.js"
import type { Signer } from "./Signer.js"

/**
 * The errors a request can end with.
 *
 * @since 0.1.0
 * @category errors
 */
export type RequestError = TransportError | HttpStatusError | ServerError | ProtocolError | SigningError

/**
 * Bytes to send as a file's content: `buffer[start, start + length)`. For zero-copy sending the buffer should
 * have `headRoom` bytes free before `start` and `tailRoom` bytes free after the content; the transport
 * overwrites those regions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Payload {
  readonly buffer: Uint8Array
  readonly start: number
  readonly length: number
}

/**
 * Set (to `true`) on an `HttpClient` that bounds each request itself as the module documentation describes, with
 * `StallTimeout` and `RequestTimeout` read from the request's fiber context: a `RequestError` / `ResponseError`
 * described `"stalled…"` when no bytes moved for the stall window, `"timeout…"` when the complete answer (status,
 * headers, body) did not arrive within the request timeout. A client derived from it by `HttpClient` combinators
 * does not carry the symbol, so the transport times such requests itself.
 *
 * @since 0.1.0
 * @category symbols
 */
export const AnswerDeadlines: typeof internal.AnswerDeadlines = internal.AnswerDeadlines

/**
 * The key under which an `HttpClient` may carry a variant of itself for the transport's exchanges, whose answers
 * are always read at once and never traced: a client built with `HttpClient.makeWith` instead of
 * `HttpClient.make`, so without the per-request `AbortController`, `FinalizationRegistry` entry and response
 * wrapper that make unread responses release their connection when garbage collected, and without spans. The
 * transport sends through it when present (the client of `@cos-v4/node` carries one); a client derived with
 * `HttpClient.mapRequest`, `HttpClient.retry` and the like does not carry it, so its transformations always apply.
 *
 * @since 0.1.0
 * @category symbols
 */
export const DirectClient: typeof internal.DirectClient = internal.DirectClient

/**
 * Free bytes wanted before a payload (the multipart head of a slice is about 400 bytes).
 *
 * @since 0.1.0
 * @category constants
 */
export const headRoom: number = internal.headRoom

/**
 * Free bytes wanted after a payload (the multipart tail).
 *
 * @since 0.1.0
 * @category constants
 */
export const tailRoom: number = internal.tailRoom

/**
 * A payload covering a whole `Uint8Array` (sent with one copy).
 *
 * @since 0.1.0
 * @category constructors
 */
export const payload = (bytes: Uint8Array): Payload => ({ buffer: bytes, start: 0, length: bytes.length })

/**
 * @since 0.1.0
 * @category models
 */
export interface UploadSimpleOptions {
  readonly path: CosPath
  readonly content: Payload
  readonly sha?: string | undefined
  readonly bizAttr?: string | undefined
  readonly insertOnly?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SliceInitOptions {
  readonly path: CosPath
  readonly fileSize: number
  readonly sliceSize: number
  readonly sha?: string | undefined
  readonly uploadParts?: ReadonlyArray<Protocol.UploadPart> | undefined
  readonly bizAttr?: string | undefined
  readonly insertOnly?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SliceDataOptions {
  readonly path: CosPath
  readonly session: string
  readonly offset: number
  readonly content: Payload
  readonly sha?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SliceFinishOptions {
  readonly path: CosPath
  readonly session: string
  readonly fileSize: number
  readonly sha?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  readonly num?: number | undefined
  readonly context?: string | undefined
  readonly pattern?: "eListBoth" | "eListDirOnly" | "eListFileOnly" | undefined
  readonly order?: 0 | 1 | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface UpdateOptions {
  readonly bizAttr?: string | undefined
  readonly authority?: "eInvalid" | "eWRPrivate" | "eWPrivateRPublic" | undefined
  readonly customHeaders?: Readonly<Record<string, string>> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace Transport {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** `op=upload` (simple upload, multipart, multi-effect signature). */
    readonly uploadSimple: (options: UploadSimpleOptions) => Effect.Effect<Protocol.AccessInfo, RequestError>
    /** `op=upload_slice_init`: a session, or access info for an instant upload. */
    readonly sliceInit: (options: SliceInitOptions) => Effect.Effect<Protocol.SliceInitData, RequestError>
    readonly sliceData: (options: SliceDataOptions) => Effect.Effect<Protocol.SliceDataData, RequestError>
    /** `op=upload_slice_list`; `None` when nothing is in progress (HTTP 404, or a `NotFound` server code). */
    readonly sliceList: (path: CosPath) => Effect.Effect<Option.Option<Protocol.SliceListData>, RequestError>
    readonly sliceFinish: (options: SliceFinishOptions) => Effect.Effect<Protocol.AccessInfo, RequestError>
    /** `op=stat` (GET). */
    readonly stat: (path: CosPath) => Effect.Effect<Protocol.StatData, RequestError>
    /** `op=delete` (JSON body, single-effect signature); also discards an unfinished slice upload. */
    readonly remove: (path: CosPath) => Effect.Effect<void, RequestError>
    /** `op=create` on a directory path (ending in `/`). */
    readonly createDirectory: (
      path: CosPath,
      options?: { readonly bizAttr?: string | undefined }
    ) => Effect.Effect<void, RequestError>
    /** `op=list` (GET) on a directory path. */
    readonly listDirectory: (path: CosPath, options?: ListOptions) => Effect.Effect<Protocol.ListData, RequestError>
    /** `op=update` (JSON body, single-effect signature). */
    readonly update: (path: CosPath, options: UpdateOptions) => Effect.Effect<void, RequestError>
    /** `op=move` (JSON body, single-effect signature). */
    readonly move: (
      path: CosPath,
      destination: CosPath,
      options?: { readonly overwrite?: boolean | undefined }
    ) => Effect.Effect<void, RequestError>
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Transport extends Context.Tag("@cos-v4/slicer/Transport")<Transport, Transport.Service>() {}

/**
 * Builds the transport over the `HttpClient` in context. HttpClient tracing is disabled for these requests
 * (per-request spans cost; the uploader keeps one span per upload).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Transport.Service, never, HttpClient.HttpClient | Signer | CosConfig> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Transport, never, HttpClient.HttpClient | Signer | CosConfig> = Layer.effect(
  Transport,
  make
)
