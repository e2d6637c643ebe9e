/**
 * A local emulator of the Tencent COS v4 JSON API (`/files/v2/<appid>/<bucket>/<path>`) that the official SDKs
 * accept unchanged: every op, every client quirk of protocol.md §1–§9, durable storage, signature checks.
 *
 * The request path is node:http with a hand-written multipart parser; each request's op runs as an Effect on
 * the layer's Runtime.
 *
 * @since 0.1.0
 */
import * as Sha1 from "@cos-v4/core/Sha1"
import * as SlicePlan from "@cos-v4/core/SlicePlan"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as http from "node:http"
import type { AuthMode, Credential } from "./Auth.js"
import * as EmulatorStorage from "./EmulatorStorage.js"
import type { Config } from "./internal/config.js"
import * as handlers from "./internal/handlers.js"
import * as server from "./internal/server.js"

/**
 * Options of the emulator. Every field is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Interface to listen on (default `127.0.0.1`). */
  readonly host?: string | undefined
  /** Port (default `0`: any free port). */
  readonly port?: number | undefined
  /** The appid served; other appids are refused with `AppIdMismatch`. Default: any. */
  readonly appId?: string | undefined
  /** Buckets served; others are answered `NotFound`. Default (empty): any bucket. */
  readonly buckets?: ReadonlyArray<string> | undefined
  readonly credentials?: ReadonlyArray<Credential> | undefined
  /** Default: `lenient` when credentials are given, `off` otherwise. */
  readonly auth?: AuthMode | undefined
  /**
   * Whether `upload_slice_data`/`upload_slice_finish` re-check the expiry of multi-effect signatures (php, cpp and
   * net reuse one signature for a whole upload). Default: only in `strict` mode.
   */
  readonly checkExpiryOnSliceData?: boolean | undefined
  /** Allowed clock skew when checking `e`/`t` (default 0 s). */
  readonly clockSkew?: Duration.DurationInput | undefined
  /** Refuse uploads/creates whose parent directory does not exist (default `false`: parents are created). */
  readonly requireParent?: boolean | undefined
  /** Lifetime of an unfinished upload since its last slice (default 7 days). */
  readonly sessionTtl?: Duration.DurationInput | undefined
  /** Unfinished uploads per bucket (default 1000). */
  readonly maxSessionsPerBucket?: number | undefined
  /** Largest file a slice upload may declare (default 1 TiB). */
  readonly maxFileSize?: number | undefined
  /** Largest request body (default 2 × 20 MiB + 1 MiB, room for a js retry that repeats every part). */
  readonly maxBodyBytes?: number | undefined
  /** Idle time allowed between two chunks of a request body (default 60 s). */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Keep-alive idle timeout (default 75 s, protocol.md §13.5). */
  readonly keepAliveTimeout?: Duration.DurationInput | undefined
  /** How often expired sessions and replay records are swept (default 60 s). */
  readonly sweepInterval?: Duration.DurationInput | undefined
}

/**
 * A running emulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `http://HOST:PORT` (the endpoint; requests go to `${url}/files/v2/...`). */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly auth: AuthMode
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@cos-v4/emulator/Emulator")<Emulator, Service>() {}

/**
 * The server could not listen.
 *
 * @since 0.1.0
 * @category errors
 */
export class ListenError extends Schema.TaggedError<ListenError>("@cos-v4/emulator/ListenError")("ListenError", {
  /** `AddressInUse` (`EADDRINUSE`), `AccessDenied` (`EACCES`, e.g. a port below 1024), or `Other` */
  reason: Schema.Literal("AddressInUse", "AccessDenied", "Other"),
  host: Schema.String,
  port: Schema.Number,
  detail: Schema.String
}) {}

const listenReason = (err: unknown): ListenError["reason"] => {
  const code = (err as { readonly code?: unknown } | null)?.code
  return code === "EADDRINUSE" ? "AddressInUse" : code === "EACCES" ? "AccessDenied" : "Other"
}

const seconds = (d: Duration.DurationInput | undefined, fallback: Duration.DurationInput) =>
  Math.ceil(Duration.toSeconds(Duration.decode(d ?? fallback)))
const millis = (d: Duration.DurationInput | undefined, fallback: Duration.DurationInput) =>
  Math.ceil(Duration.toMillis(Duration.decode(d ?? fallback)))

/**
 * Applies the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: Options = {}): Config => {
  const credentials = new Map<string, Redacted.Redacted<string>>(
    (options.credentials ?? []).map((c) => [c.secretId, c.secretKey])
  )
  const auth = options.auth ?? (credentials.size > 0 ? "lenient" : "off")
  return {
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    appId: options.appId,
    buckets: new Set(options.buckets ?? []),
    credentials,
    auth,
    checkExpiryOnSliceData: options.checkExpiryOnSliceData ?? auth === "strict",
    clockSkewSeconds: seconds(options.clockSkew, 0),
    requireParent: options.requireParent ?? false,
    sessionTtlSeconds: seconds(options.sessionTtl, Duration.days(7)),
    maxSessionsPerBucket: options.maxSessionsPerBucket ?? 1000,
    maxFileSize: options.maxFileSize ?? 2 ** 40,
    maxSimpleUploadSize: SlicePlan.maxSimpleUploadSize,
    maxBodyBytes: options.maxBodyBytes ?? 2 * SlicePlan.maxSimpleUploadSize + (1 << 20),
    maxListNum: 1000,
    idleTimeoutMs: millis(options.idleTimeout, Duration.seconds(60)),
    requestTimeoutMs: 15 * 60 * 1000,
    headersTimeoutMs: 60 * 1000,
    keepAliveTimeoutMs: millis(options.keepAliveTimeout, Duration.seconds(75)),
    maxHeaderSize: 16 * 1024,
    sweepIntervalMs: millis(options.sweepInterval, Duration.seconds(60))
  }
}

/**
 * Starts the emulator in the layer's scope (closed, with its connections, when the scope closes) and sweeps
 * expired sessions and replay records in the background. Slice uploads are hashed while their slices arrive (finish
 * only hashes what is left), with the `Sha1` service when one is in the context, else core's pure-TS SHA-1. Provide
 * `NativeSha1.layer` of `@cos-v4/native` (as `pnpm emulator` and `cos serve` do): its `updateAsync` moves the
 * hashing to a thread of its own, off the request path; without it plain uploads are hashed
 * with node:crypto on the main thread.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Emulator, ListenError | EmulatorStorage.StorageError, EmulatorStorage.EmulatorStorage> =>
  Layer.scoped(
    Emulator,
    Effect.gen(function*() {
      const cfg = resolve(options)
      const store = yield* EmulatorStorage.EmulatorStorage
      const sweep = Effect.flatMap(
        Effect.clockWith((c) => c.currentTimeMillis),
        (ms) => store.sweepExpired(Math.floor(ms / 1000))
      )
      yield* sweep
      yield* sweep.pipe(
        Effect.catchAll((e) => Effect.logWarning("sweep failed", e.detail)),
        Effect.repeat(Schedule.spaced(Duration.millis(cfg.sweepIntervalMs))),
        Effect.delay(Duration.millis(cfg.sweepIntervalMs)),
        Effect.forkScoped
      )
      // the running hashes use the provided SHA-1 (e.g. @cos-v4/native's, which hashes on its own thread), else pure TS
      const sha1 = yield* Effect.serviceOption(Sha1.Sha1)
      const runtime = yield* Effect.runtime<never>()
      const listener = server.makeListener(
        cfg,
        handlers.make(cfg, store, Option.match(sha1, { onNone: () => Sha1.make, onSome: (s) => s.make })),
        runtime
      )
      const srv = yield* Effect.acquireRelease(
        Effect.async<http.Server, ListenError>((resume) => {
          const s = http.createServer({
            maxHeaderSize: cfg.maxHeaderSize,
            requestTimeout: cfg.requestTimeoutMs,
            headersTimeout: cfg.headersTimeoutMs,
            keepAliveTimeout: cfg.keepAliveTimeoutMs
          })
          s.on("request", listener.onRequest)
          s.on("checkContinue", listener.onCheckContinue)
          s.on("clientError", listener.onClientError)
          s.once("error", (err) =>
            resume(Effect.fail(
              new ListenError({ reason: listenReason(err), host: cfg.host, port: cfg.port, detail: String(err) })
            )))
          s.listen(cfg.port, cfg.host, () => resume(Effect.succeed(s)))
        }),
        (s) =>
          Effect.async<void>((resume) => {
            s.close(() => resume(Effect.void))
            s.closeAllConnections()
          })
      )
      const address = srv.address()
      const port = typeof address === "object" && address !== null ? address.port : cfg.port
      const hostPart = cfg.host.includes(":") ? `[${cfg.host}]` : cfg.host
      return { url: `http://${hostPart}:${port}`, host: cfg.host, port, auth: cfg.auth }
    })
  )

/**
 * An emulator on 127.0.0.1, port 0, with in-memory storage unless another storage is provided.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (
  options: Omit<Options, "host" | "port"> = {}
): Layer.Layer<Emulator, ListenError | EmulatorStorage.StorageError> =>
  layer({ ...options, host: "127.0.0.1", port: 0 }).pipe(Layer.provide(EmulatorStorage.layerMemory))
