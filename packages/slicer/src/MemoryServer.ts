/**
 * An in-memory COS v4 server behind an `HttpClient`, for tests (ours and yours): it answers the upload
 * operations (`upload`, `upload_slice_init` / `_data` / `_list` / `_finish`, `stat`, `delete`) with the
 * protocol's envelopes, keeps files and unfinished sessions in maps you can inspect, and logs every request.
 * No socket, no real time: it runs under `TestClock`.
 *
 * ```ts
 * const server = MemoryServer.unsafeMake({ verifySignatures: true })
 * const receipt = yield* Uploader.upload(UploadSource.fromUint8Array(bytes), "/a.bin").pipe(
 *   Effect.provide(MemoryServer.layerServices(server))
 * )
 * assert.deepStrictEqual(server.files.get("/a.bin")?.bytes, bytes)
 * ```
 *
 * Compose it with `FaultInjection` (which wraps any `HttpClient`) to script transport faults.
 *
 * @since 0.1.0
 */
import type * as CosError from "@cos-v4/core/CosError"
import * as Sha1 from "@cos-v4/core/Sha1"
import type * as Signature from "@cos-v4/core/Signature"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CheckpointStore from "./CheckpointStore.js"
import * as CosConfig from "./CosConfig.js"
import * as internal from "./internal/memoryServer.js"
import * as Signer from "./Signer.js"
import * as Transport from "./Transport.js"

/**
 * The credentials the server accepts when `verifySignatures` is on (appid `1250000000`, id `AKIDtest`).
 *
 * @since 0.1.0
 * @category constants
 */
export const credentials: Signature.Credentials = internal.credentials

/**
 * The `CosConfig` matching the server (`http://cos.test`, appid `1250000000`, bucket `bkt`).
 *
 * @since 0.1.0
 * @category constants
 */
export const config: CosConfig.CosConfig.Service = internal.config

/**
 * An unfinished sliced upload held by the server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  readonly session: string
  readonly filesize: number
  readonly sliceSize: number
  readonly sha: string | undefined
  readonly parts: Map<number, Uint8Array>
}

/**
 * A decoded request: its index in the log, op, COS path, fields (query and body) and file content.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly index: number
  readonly op: string
  readonly path: string
  readonly fields: Record<string, string>
  readonly content: Uint8Array | undefined
}

/**
 * A logged request, with its `Authorization` header and the buffer its body was sent from.
 *
 * @since 0.1.0
 * @category models
 */
export interface LogEntry extends Request {
  readonly authorization: string
  readonly bodyBuffer: ArrayBufferLike | undefined
  readonly bodyLength: number
}

/**
 * A server-side fault for the `fault` hook (for transport-level faults use `FaultInjection`).
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | { readonly _tag: "status"; readonly status: number; readonly body?: string }
  | { readonly _tag: "code"; readonly reason: Exclude<CosError.ServerReason, "Unknown"> }
  | { readonly _tag: "never" }
  | { readonly _tag: "delay"; readonly millis: number }
  | { readonly _tag: "stallBody" }

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The slice size the server answers to init (default: the requested one). */
  readonly sliceSize?: number
  /** `serial_upload` answered to init (default 0). */
  readonly serialUpload?: 0 | 1
  /** Store something other than what was sent (stat then reports another sha). */
  readonly tamper?: boolean
  /** Verify signatures (expiry included, against the `Clock`) with `credentials`. */
  readonly verifySignatures?: boolean
}

/**
 * The server's state and its client. `files`, `sessions` and `log` are live; `fault` and `yields` are hooks
 * you may replace at any time.
 *
 * @since 0.1.0
 * @category models
 */
export interface Server {
  /** An `HttpClient` whose requests this server answers. */
  readonly client: HttpClient.HttpClient
  readonly files: Map<string, { readonly bytes: Uint8Array; readonly sha: string }>
  readonly sessions: Map<string, Session>
  readonly log: Array<LogEntry>
  /** Answers a request with a fault instead of handling it (default: none). */
  fault: (request: Request) => Fault | undefined
  /** How many times to yield before answering (perturbs the interleaving of concurrent requests). */
  yields: (request: Request) => number
  /** Requests being answered now. */
  inFlight: number
  /** The most requests ever answered at the same time. */
  maxInFlight: number
  /** The logged requests of one op. */
  readonly ops: (op: string) => Array<LogEntry>
  /** Offsets of every `upload_slice_data` request, in order. */
  readonly sentOffsets: () => Array<number>
}

/**
 * The service tag of a server provided by `layer`.
 *
 * @since 0.1.0
 * @category tags
 */
export class MemoryServer extends Context.Tag("@cos-v4/slicer/MemoryServer")<MemoryServer, Server>() {}

/**
 * Makes a server synchronously (handy in tests that inspect it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake: (options?: Options) => Server = internal.make

/**
 * Makes a server.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Server> => Effect.sync(() => internal.make(options))

/**
 * A fresh server as `MemoryServer` and its client as `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<MemoryServer | HttpClient.HttpClient> =>
  Layer.effectContext(Effect.map(
    make(options),
    (server) => Context.make(MemoryServer, server).pipe(Context.add(HttpClient.HttpClient, server.client))
  ))

/**
 * What an upload needs, over a server: `Transport`, `Signer` (with `credentials`), `CosConfig` (`config`),
 * `HttpClient`, the pure `Sha1` and a checkpoint store (default `CheckpointStore.layerMemory`).
 * Pass `client` to put something between the transport and the server (e.g. `FaultInjection.wrap`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServices = (
  server: Server,
  signerOptions?: Signer.Options,
  store: Layer.Layer<CheckpointStore.CheckpointStore> = CheckpointStore.layerMemory,
  client: HttpClient.HttpClient = server.client
): Layer.Layer<
  | Transport.Transport
  | Signer.Signer
  | CosConfig.CosConfig
  | HttpClient.HttpClient
  | CheckpointStore.CheckpointStore
  | Sha1.Sha1
> => {
  const base = Layer.mergeAll(
    Signer.layer(credentials, signerOptions),
    Layer.succeed(HttpClient.HttpClient, client)
  ).pipe(Layer.provideMerge(CosConfig.layer(config)))
  return Layer.mergeAll(Transport.layer.pipe(Layer.provideMerge(base)), store, Sha1.layerPure)
}
