/**
 * Where requests go: the endpoint (scheme, host and port, e.g. `http://127.0.0.1:8080` or
 * `https://sh.file.myqcloud.com`; the transport appends `/files/v2`), the appid and the bucket.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace CosConfig {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** Scheme + host (+ port), without `/files/v2`; trailing slashes are ignored. */
    readonly endpoint: string
    readonly appId: string
    readonly bucket: string
    /**
     * The name checkpoints give this server (default: `endpoint`). Set it when one server is reached at another
     * address from run to run, so that a rerun finds its checkpoint: `cos`'s embedded emulator listens on a free
     * port each time and is named after its data directory.
     */
    readonly site?: string | undefined
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class CosConfig extends Context.Tag("@cos-v4/slicer/CosConfig")<CosConfig, CosConfig.Service>() {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: CosConfig.Service): CosConfig.Service => ({
  endpoint: config.endpoint.replace(/\/+$/, ""),
  appId: config.appId,
  bucket: config.bucket,
  ...(config.site === undefined ? {} : { site: config.site })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: CosConfig.Service): Layer.Layer<CosConfig> => Layer.succeed(CosConfig, make(config))

/**
 * Reads the configuration from `Config` (default names `COS_ENDPOINT`, `COS_APPID`, `COS_BUCKET`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<CosConfig.Service> = {
    endpoint: Config.string("COS_ENDPOINT"),
    appId: Config.string("COS_APPID"),
    bucket: Config.string("COS_BUCKET")
  }
): Layer.Layer<CosConfig, ConfigError.ConfigError> => Layer.effect(CosConfig, Effect.map(Config.unwrap(config), make))
