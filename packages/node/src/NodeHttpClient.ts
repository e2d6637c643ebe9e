/**
 * A keep-alive `HttpClient` over node:http / node:https for the upload data path.
 *
 * `@effect/platform-node`'s `NodeHttpClient.layer` opens a new TCP connection per request (its agent has no
 * keep-alive) and costs several hundred µs of CPU per request; this client is a small `HttpClient.make`
 * transport (effect-http-perf.md §7.3):
 *
 * - one keep-alive `http.Agent` (and an `https.Agent` on first https use, default TLS verification), both
 *   destroyed when the layer's scope closes;
 * - `Uint8Array` bodies, and `Raw` bodies that are arrays of `Uint8Array` pieces (written with one `req.write`
 *   per piece, no concatenation); `Stream` bodies are piped; `FormData` bodies fail with reason `Encode`;
 * - interruption destroys the request (the `AbortSignal` is not handed to `http.request`, which costs ~40 µs
 *   per request);
 * - a socket idle timeout (the stall window: `UploadOptions.StallTimeout` from the request's context, or the
 *   `stallTimeout` option): when no bytes move for that long the request is destroyed and fails with a
 *   `RequestError` (or, while reading the body, a `ResponseError`) whose `description` starts with `"stalled"`
 *   and whose cause has code `ETIMEDOUT`; the slicer's `Transport` maps it to `TransportError` reason `Stalled`;
 * - a request timeout: the complete answer (status, headers, body) within `UploadOptions.RequestTimeout` of the
 *   request's context, with one Node timer per request (no timer fiber), else a failure described
 *   `"timeout: no answer within N ms"` (cause code `ETIMEDOUT`). So a slow link whose bytes keep moving is not a
 *   stall: a slice may take up to the request timeout. The client carries `Transport.AnswerDeadlines`, so the
 *   transport arms no timer of its own; set both references to `Duration.infinity` for requests without limits;
 * - a `Transport.DirectClient` variant, which the transport sends through: the same requests without
 *   `HttpClient.make`'s per-request `AbortController`, `FinalizationRegistry` entry, response wrapper and span.
 *   With them, every answered request's objects outlived V8's minor collections until the next full one (old-space
 *   references: the registry's cells and objects of pretenured allocation sites): about 1 MB promoted per minor
 *   collection during an upload, against 5–15 KB through the direct variant. The variant hands a response over
 *   once its body has arrived (the transport always reads it), so reading it is one wait fewer. Responses of this
 *   client itself keep `HttpClient.make`'s behaviour (an unread response releases its connection once garbage
 *   collected);
 * - registrations with `Effect.async` that capture a small record, not the request: `Effect.async` keeps a
 *   function of its own that V8 allocates in the old generation until effect's code is optimized (a function
 *   literal assigned to a property is pretenured), and that function kept the whole request alive through minor
 *   collections. During the first GiB of a fresh process this promoted 0.5–0.8 MB per minor collection and grew
 *   V8's young generation to its maximum (2 × 16 MiB); now 0.3–0.4 MB, and it stays at 2 × 8 MiB through the first
 *   GiBs (client peak RSS after 1 GiB: 87–88 MiB instead of 104, docs/benchmarks.md).
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Https from "node:https"
import * as internal from "./internal/nodeHttpClient.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Connections per origin (default 16); an upload uses about `concurrency` of them. */
  readonly maxSockets?: number | undefined
  /** Idle connections kept per origin (default `maxSockets`). */
  readonly maxFreeSockets?: number | undefined
  /** TCP keep-alive probe delay on idle connections, ms (default 1000). */
  readonly keepAliveMsecs?: number | undefined
  /**
   * The stall window for every request. Default: `UploadOptions.StallTimeout` read from each request's
   * context (30 s unless the uploader or caller sets it). An infinite duration disables the timer.
   */
  readonly stallTimeout?: Duration.DurationInput | undefined
  /** Extra `https.Agent` options (CA, client certificates, ...); TLS verification stays on unless disabled here. */
  readonly https?: Https.AgentOptions | undefined
}

/**
 * The cause of a stalled request: code `ETIMEDOUT`, message `"stalled: no bytes moved for N ms"`.
 *
 * @since 0.1.0
 * @category errors
 */
export const StallError: new(stallMillis: number) => Error & {
  readonly code: "ETIMEDOUT"
  readonly stallMillis: number
} = internal.StallError

/**
 * Builds the client; its agents are destroyed when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(HttpClient.HttpClient, internal.make(options))
