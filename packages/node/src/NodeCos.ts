/**
 * Everything an app needs to upload from Node, in one layer: the keep-alive `HttpClient`, the slicer's
 * `Transport`, `Signer` and `CosConfig`, the file `CheckpointStore`, the native `Sha1` and `NodeFileSystem`
 * (for `Uploader.uploadFile`).
 *
 * ```ts
 * import * as NodeCos from "@cos-v4/node/NodeCos"
 * import * as Uploader from "@cos-v4/slicer/Uploader"
 * import * as Effect from "effect/Effect"
 *
 * Uploader.uploadFile("./big.iso", "/isos/big.iso").pipe(Effect.provide(NodeCos.layerConfig()))
 * ```
 *
 * @since 0.1.0
 */
import type * as Sha1 from "@cos-v4/core/Sha1"
import type * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import * as CosConfig from "@cos-v4/slicer/CosConfig"
import * as Signer from "@cos-v4/slicer/Signer"
import * as Transport from "@cos-v4/slicer/Transport"
import * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as NodeCheckpointStore from "./NodeCheckpointStore.js"
import * as NodeHttpClient from "./NodeHttpClient.js"
import * as NodeSha1 from "./NodeSha1.js"

/**
 * The services `layer` provides: the uploader's requirements plus `FileSystem` and the `HttpClient`.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | Transport.Transport
  | Signer.Signer
  | CosConfig.CosConfig
  | CheckpointStore.CheckpointStore
  | Sha1.Sha1
  | FileSystem.FileSystem
  | HttpClient.HttpClient

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Scheme + host (+ port), e.g. `https://gz.file.myqcloud.com` or an emulator's `http://127.0.0.1:8080`. */
  readonly endpoint: string
  readonly appId: string
  readonly bucket: string
  /** The name checkpoints give the server, when its address changes from run to run (`CosConfig`'s `site`). */
  readonly site?: string | undefined
  readonly credentials: { readonly secretId: string; readonly secretKey: Redacted.Redacted<string> }
  /**
   * Where checkpoints are kept (default `NodeCheckpointStore.defaultDirectory()`:
   * `$XDG_CACHE_HOME/cos-v4/checkpoints` or `~/.cache/cos-v4/checkpoints`, per user, so a resume works from any
   * working directory).
   */
  readonly checkpointDir?: string | undefined
  /** Options of the file checkpoint store (e.g. `{ fsync: false }`). */
  readonly checkpoints?: NodeCheckpointStore.Options | undefined
  /**
   * Slices in flight per upload (sets `UploadOptions.Concurrency` for everything under this layer; per-call
   * options still win) and sizes the connection pool (`maxSockets` = max(16, 2 × concurrency)).
   */
  readonly concurrency?: number | undefined
  /** Options of the keep-alive `HttpClient`. */
  readonly http?: NodeHttpClient.Options | undefined
  /** Options of the signer (signature lifetime, refresh margin). */
  readonly signer?: Signer.Options | undefined
}

/**
 * Assembles every service of an upload from Node.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Services> => {
  const concurrency = options.concurrency
  const config = CosConfig.layer({
    endpoint: options.endpoint,
    appId: options.appId,
    bucket: options.bucket,
    site: options.site
  })
  const http = NodeHttpClient.layer({
    maxSockets: concurrency === undefined ? undefined : Math.max(16, 2 * concurrency),
    ...options.http
  })
  const signer = Signer.layer({
    appId: options.appId,
    secretId: options.credentials.secretId,
    secretKey: options.credentials.secretKey
  }, options.signer)
  const base = Layer.mergeAll(
    NodeCheckpointStore.layer(options.checkpointDir ?? NodeCheckpointStore.defaultDirectory(), options.checkpoints),
    NodeSha1.layer,
    NodeFileSystem.layer
  )
  const services = Transport.layer.pipe(
    Layer.provideMerge(Layer.merge(signer, http)),
    Layer.provideMerge(config),
    Layer.merge(base)
  )
  return concurrency === undefined
    ? services
    : Layer.merge(services, Layer.succeed(UploadOptions.Concurrency, concurrency))
}

/**
 * Names of the configuration read by `layerConfig` (all through `Config`, so any `ConfigProvider` works).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigNames {
  readonly endpoint: Config.Config<string>
  readonly appId: Config.Config<string>
  readonly bucket: Config.Config<string>
  readonly secretId: Config.Config<string>
  readonly secretKey: Config.Config<Redacted.Redacted<string>>
  readonly checkpointDir: Config.Config<Option.Option<string>>
  readonly concurrency: Config.Config<Option.Option<number>>
}

/**
 * The default configuration: `COS_ENDPOINT`, `COS_APPID`, `COS_BUCKET`, `COS_SECRET_ID`, `COS_SECRET_KEY`
 * (redacted), and the optional `COS_CHECKPOINT_DIR` and `COS_CONCURRENCY`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultConfig: ConfigNames = {
  endpoint: Config.string("COS_ENDPOINT"),
  appId: Config.string("COS_APPID"),
  bucket: Config.string("COS_BUCKET"),
  secretId: Config.string("COS_SECRET_ID"),
  secretKey: Config.redacted("COS_SECRET_KEY"),
  checkpointDir: Config.option(Config.string("COS_CHECKPOINT_DIR")),
  concurrency: Config.option(
    Config.integer("COS_CONCURRENCY").pipe(Config.validate({
      message: "COS_CONCURRENCY must be a positive integer",
      validation: (n) => n > 0
    }))
  )
}

/**
 * `layer` with its settings read from `Config` (see `defaultConfig`); `options` can override the names or add
 * HTTP / signer options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: {
    readonly config?: Partial<ConfigNames> | undefined
    readonly http?: NodeHttpClient.Options | undefined
    readonly signer?: Signer.Options | undefined
  } = {}
): Layer.Layer<Services, ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const names: ConfigNames = { ...defaultConfig, ...options.config }
    const endpoint = yield* names.endpoint
    const appId = yield* names.appId
    const bucket = yield* names.bucket
    const secretId = yield* names.secretId
    const secretKey = yield* names.secretKey
    const checkpointDir = yield* names.checkpointDir
    const concurrency = yield* names.concurrency
    return layer({
      endpoint,
      appId,
      bucket,
      credentials: { secretId, secretKey },
      checkpointDir: Option.getOrUndefined(checkpointDir),
      concurrency: Option.getOrUndefined(concurrency),
      http: options.http,
      signer: options.signer
    })
  }))
