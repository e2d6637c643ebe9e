/**
 * Where `cos` connects: settings from flags, then environment variables (`COS_ENDPOINT`, `COS_APPID`,
 * `COS_BUCKET`, `COS_SECRET_ID`, `COS_SECRET_KEY`), then a JSON config file, in that order of precedence.
 * When no endpoint is configured anywhere, the commands run against an embedded emulator.
 *
 * @since 0.1.0
 */
import * as CosError from "@cos-v4/core/CosError"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * Settings as given on the command line (every one optional).
 *
 * @since 0.1.0
 * @category models
 */
export interface Flags {
  readonly endpoint: Option.Option<string>
  readonly appId: Option.Option<string>
  readonly bucket: Option.Option<string>
  readonly secretId: Option.Option<string>
  readonly secretKey: Option.Option<Redacted.Redacted<string>>
  readonly configFile: Option.Option<string>
}

/**
 * The config file's shape: `{"endpoint", "appid", "bucket", "secretId", "secretKey"}`, all optional.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigFile = Schema.Struct({
  endpoint: Schema.optional(Schema.String),
  appid: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  bucket: Schema.optional(Schema.String),
  secretId: Schema.optional(Schema.String),
  secretKey: Schema.optional(Schema.String)
})

/**
 * Resolved settings: a remote endpoint with credentials, or the embedded emulator.
 *
 * @since 0.1.0
 * @category models
 */
export type Resolved =
  | {
    readonly _tag: "Remote"
    readonly endpoint: string
    readonly appId: string
    readonly bucket: string
    readonly secretId: string
    readonly secretKey: Redacted.Redacted<string>
  }
  | {
    readonly _tag: "Embedded"
    readonly appId: string
    readonly bucket: string
    readonly dataDir: string
  }

/**
 * The default config file (relative to the working directory), used when it exists and no `--config` /
 * `COS_CONFIG` names another.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultConfigFile = "cos.config.json"

/**
 * Where the embedded emulator keeps its data.
 *
 * @since 0.1.0
 * @category constants
 */
export const embeddedDataDir = ".cos-data"

/**
 * The embedded emulator's appid and bucket when none is configured.
 *
 * @since 0.1.0
 * @category constants
 */
export const embeddedDefaults = { appId: "1250000000", bucket: "local" } as const

const envString = (name: string) => Config.option(Config.nonEmptyString(name))

const readConfigFile = (flags: Flags) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const envFile = yield* envString("COS_CONFIG")
    const explicit = Option.orElse(flags.configFile, () => envFile)
    const file = Option.getOrElse(explicit, () => defaultConfigFile)
    const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
    if (!exists) {
      if (Option.isSome(explicit)) {
        return yield* new CosError.InvalidArgument({
          reason: "InvalidOption",
          argument: "config",
          detail: `config file ${file} does not exist`
        })
      }
      return {} as typeof ConfigFile.Type
    }
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((e) =>
        new CosError.InvalidArgument({ reason: "InvalidOption", argument: "config", detail: `${file}: ${e.message}` })
      )
    )
    return yield* Schema.decodeUnknown(Schema.parseJson(ConfigFile))(text).pipe(
      Effect.mapError((e) =>
        new CosError.InvalidArgument({
          reason: "InvalidOption",
          argument: "config",
          detail: `${file} is not a valid cos config file: ${e.message.split("\n")[0]}`
        })
      )
    )
  })

/**
 * Resolves the connection: flags win over environment variables, which win over the config file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (
  flags: Flags
): Effect.Effect<Resolved, CosError.InvalidArgument, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const file = yield* readConfigFile(flags)
    const env = {
      endpoint: yield* envString("COS_ENDPOINT"),
      appId: yield* envString("COS_APPID"),
      bucket: yield* envString("COS_BUCKET"),
      secretId: yield* envString("COS_SECRET_ID"),
      secretKey: yield* Config.option(Config.redacted("COS_SECRET_KEY"))
    }
    const pick = <A>(flag: Option.Option<A>, fromEnv: Option.Option<A>, fromFile: A | undefined): Option.Option<A> =>
      Option.orElse(flag, () => Option.orElse(fromEnv, () => Option.fromNullable(fromFile)))
    const endpoint = pick(flags.endpoint, env.endpoint, file.endpoint)
    const appId = pick(flags.appId, env.appId, file.appid === undefined ? undefined : String(file.appid))
    const bucket = pick(flags.bucket, env.bucket, file.bucket)
    if (Option.isNone(endpoint)) {
      return {
        _tag: "Embedded" as const,
        appId: Option.getOrElse(appId, () => embeddedDefaults.appId),
        bucket: Option.getOrElse(bucket, () => embeddedDefaults.bucket),
        dataDir: embeddedDataDir
      }
    }
    const secretId = pick(flags.secretId, env.secretId, file.secretId)
    const secretKey = pick(
      flags.secretKey,
      env.secretKey,
      file.secretKey === undefined ? undefined : Redacted.make(file.secretKey)
    )
    const missing = [
      Option.isNone(appId) ? "appid (--appid or COS_APPID)" : undefined,
      Option.isNone(bucket) ? "bucket (--bucket or COS_BUCKET)" : undefined,
      Option.isNone(secretId) ? "secret id (--secret-id or COS_SECRET_ID)" : undefined,
      Option.isNone(secretKey) ? "secret key (--secret-key or COS_SECRET_KEY)" : undefined
    ].filter((m): m is string => m !== undefined)
    if (missing.length > 0 || Option.isNone(appId) || Option.isNone(bucket)) {
      return yield* new CosError.InvalidArgument({
        reason: "InvalidCredentials",
        argument: "connection",
        detail: `endpoint ${endpoint.value} is configured but ${missing.join(", ")} is missing`
      })
    }
    if (!/^https?:\/\/[^/]+/.test(endpoint.value)) {
      return yield* new CosError.InvalidArgument({
        reason: "InvalidOption",
        argument: "endpoint",
        detail: `${endpoint.value} is not an http(s) URL such as http://127.0.0.1:8080`
      })
    }
    return {
      _tag: "Remote" as const,
      endpoint: endpoint.value.replace(/\/+$/, "").replace(/\/files\/v2$/, ""),
      appId: appId.value,
      bucket: bucket.value,
      secretId: Option.getOrThrow(secretId),
      secretKey: Option.getOrThrow(secretKey)
    }
  }).pipe(
    Effect.catchTag("ConfigError", (e) =>
      new CosError.InvalidArgument({ reason: "InvalidOption", argument: "environment", detail: e.message }))
  )
