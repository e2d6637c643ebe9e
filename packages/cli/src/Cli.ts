/**
 * The `cos` command line: `upload`, `stat`, `ls`, `rm`, `mkdir` and `serve`, on `@effect/cli`.
 *
 * @since 0.1.0
 */
import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import type * as Protocol from "@cos-v4/core/Protocol"
import * as SlicePlan from "@cos-v4/core/SlicePlan"
import * as Auth from "@cos-v4/emulator/Auth"
import * as Emulator from "@cos-v4/emulator/Emulator"
import * as EmulatorStorage from "@cos-v4/emulator/EmulatorStorage"
import * as NodeSha1 from "@cos-v4/node/NodeSha1"
import * as Cos from "@cos-v4/slicer/Cos"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as UploadOptions from "@cos-v4/slicer/UploadOptions"
import type * as UploadReceipt from "@cos-v4/slicer/UploadReceipt"
import type * as UploadSource from "@cos-v4/slicer/UploadSource"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import * as Connection from "./Connection.js"
import * as Client from "./internal/client.js"
import * as ProgressDisplay from "./ProgressDisplay.js"

// ---------------------------------------------------------------------------------------------------------------
// connection flags, shared by the client commands
// ---------------------------------------------------------------------------------------------------------------

const connectionOptions = {
  endpoint: Options.text("endpoint").pipe(
    Options.withDescription("the v4 API origin, e.g. http://127.0.0.1:8080 (env COS_ENDPOINT)"),
    Options.optional
  ),
  appId: Options.text("appid").pipe(Options.withDescription("the appid (env COS_APPID)"), Options.optional),
  bucket: Options.text("bucket").pipe(Options.withDescription("the bucket (env COS_BUCKET)"), Options.optional),
  secretId: Options.text("secret-id").pipe(
    Options.withDescription("the SecretId (env COS_SECRET_ID)"),
    Options.optional
  ),
  secretKey: Options.redacted("secret-key").pipe(
    Options.withDescription("the SecretKey (env COS_SECRET_KEY; prefer the environment or the config file)"),
    Options.optional
  ),
  configFile: Options.file("config").pipe(
    Options.withDescription(`a JSON config file (env COS_CONFIG; default ./${Connection.defaultConfigFile})`),
    Options.optional
  )
}

/** Runs `use` against the configured endpoint, or an embedded emulator when none is configured. */
const withClient = <A, E>(
  flags: Connection.Flags,
  use: (info: { readonly embedded: boolean }) => Effect.Effect<A, E, Client.Services>,
  options: { readonly quiet: boolean; readonly concurrency?: number | undefined }
) =>
  Effect.gen(function*() {
    const resolved = yield* Connection.resolve(flags)
    if (resolved._tag === "Embedded" && !options.quiet) {
      yield* Effect.sync(() =>
        process.stderr.write(
          `no endpoint configured: using an embedded emulator (data in ./${resolved.dataDir}, bucket ${resolved.bucket})\n`
        )
      )
    }
    return yield* use({ embedded: resolved._tag === "Embedded" }).pipe(
      Effect.provide(Client.layer(resolved, { concurrency: options.concurrency }))
    )
  })

// ---------------------------------------------------------------------------------------------------------------
// cos upload
// ---------------------------------------------------------------------------------------------------------------

const parseSize = (text: string): Either.Either<number, string> => {
  const m = /^(\d+)\s*(k|ki|kib|m|mi|mib|b)?$/i.exec(text.trim())
  if (m === null) return Either.left(`${text} is not a size (e.g. 1MiB, 512KiB, 1048576)`)
  const n = Number(m[1])
  const unit = (m[2] ?? "b").toLowerCase()
  const bytes = unit.startsWith("k") ? n * 1024 : unit.startsWith("m") ? n * 1024 * 1024 : n
  return SlicePlan.allowedSliceSizes.includes(bytes)
    ? Either.right(bytes)
    : Either.left(`slice size ${text} is not one of 512KiB, 1MiB, 2MiB, 3MiB`)
}

const uploadCommand = Command.make(
  "upload",
  {
    ...connectionOptions,
    file: Args.text({ name: "local-file" }).pipe(Args.withDescription("the file to upload")),
    target: Args.text({ name: "cos-path" }).pipe(Args.withDescription("where to put it, e.g. /dir/name.bin")),
    concurrency: Options.integer("concurrency").pipe(
      Options.withAlias("c"),
      Options.withDescription("slices in flight"),
      Options.withDefault(4)
    ),
    sliceSize: Options.text("slice-size").pipe(
      Options.withDescription("512KiB, 1MiB, 2MiB or 3MiB (the server may choose another)"),
      Options.withDefault("1MiB")
    ),
    integrity: Options.choice("integrity", ["sha-at-init", "inline"]).pipe(
      Options.withDescription(
        "sha-at-init: hash first (instant upload, server-side verification); inline: hash while sending, then stat"
      ),
      Options.withDefault("sha-at-init" as const)
    ),
    retries: Options.integer("retries").pipe(
      Options.withDescription("retry budget of the upload (reset whenever acknowledged bytes advance)"),
      Options.withDefault(8)
    ),
    timeout: Options.integer("timeout").pipe(
      Options.withDescription("per-request timeout in seconds"),
      Options.withDefault(120)
    ),
    stallTimeout: Options.integer("stall-timeout").pipe(
      Options.withDescription("seconds without bytes moving before a request counts as stalled"),
      Options.withDefault(30)
    ),
    overwrite: Options.boolean("overwrite").pipe(Options.withDescription("replace an existing file (insertOnly=0)")),
    discard: Options.boolean("discard").pipe(
      Options.withDescription("on Ctrl-C, delete the unfinished upload on the server instead of keeping it resumable")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print the receipt as JSON on stdout"))
  },
  (args) =>
    Effect.gen(function*() {
      const sliceSize = parseSize(args.sliceSize)
      if (Either.isLeft(sliceSize)) {
        return yield* new CosError.InvalidArgument({
          reason: "InvalidSliceSize",
          argument: "--slice-size",
          detail: sliceSize.left
        })
      }
      if (args.concurrency < 1 || args.concurrency > 64) {
        return yield* new CosError.InvalidArgument({
          reason: "InvalidOption",
          argument: "--concurrency",
          detail: `${args.concurrency} is not between 1 and 64`
        })
      }
      const target = CosPath.parseFile(args.target)
      if (Either.isLeft(target)) {
        return yield* new CosError.InvalidArgument({
          reason: "InvalidPath",
          argument: "cos-path",
          detail: `${target.left.message} (a cos path looks like /dir/name.bin)`
        })
      }
      const fs = yield* FileSystem.FileSystem
      const info = yield* fs.stat(args.file).pipe(
        Effect.mapError(() =>
          new CosError.SourceError({ reason: "NotFound", source: args.file, detail: "no such file" })
        )
      )
      if (info.type !== "File") {
        return yield* new CosError.SourceError({
          reason: "NotAFile",
          source: args.file,
          detail: `it is a ${info.type}`
        })
      }
      const options: UploadOptions.UploadOptions = {
        concurrency: args.concurrency,
        sliceSize: sliceSize.right,
        integrity: args.integrity,
        requestTimeout: Duration.seconds(args.timeout),
        stallTimeout: Duration.seconds(args.stallTimeout),
        overwrite: args.overwrite,
        cancelPolicy: args.discard ? "discard" : "keep",
        retrySchedule: UploadOptions.retrySchedule(args.retries)
      }
      const label = path.basename(args.file)
      const receipt = yield* withClient(
        args,
        () => uploadWithDisplay(Client.fileSource(args.file), target.right, label, options),
        { quiet: false, concurrency: args.concurrency }
      )
      yield* Effect.sync(() => {
        if (args.json) process.stdout.write(`${JSON.stringify(receipt, null, 2)}\n`)
        else process.stdout.write(formatReceipt(args.file, receipt))
      })
    })
).pipe(Command.withDescription("upload a file, resumably (rerun the same command to resume)"))

/**
 * Uploads with the live progress display on stderr and returns the receipt.
 *
 * @since 0.1.0
 * @category uploading
 */
export const uploadWithDisplay = <R>(
  source: UploadSource.UploadSource<R>,
  target: string,
  label: string,
  options?: UploadOptions.UploadOptions
): Effect.Effect<UploadReceipt.UploadReceipt, CosError.CosError, Uploader.Requirements | R> =>
  Effect.scoped(Effect.gen(function*() {
    const display = yield* ProgressDisplay.make(label, { quiet: false })
    let receipt: UploadReceipt.UploadReceipt | undefined
    yield* Uploader.uploadWithProgress(source, target, options).pipe(
      Stream.runForEach((event) =>
        Effect.zipRight(
          display.onEvent(event),
          Effect.sync(() => {
            if (event._tag === "Completed") receipt = event.receipt
          })
        )
      )
    )
    if (receipt === undefined) {
      return yield* new CosError.ProtocolError({ reason: "Unexpected", detail: "the upload ended without a receipt" })
    }
    return receipt
  }))

/**
 * A human-readable receipt.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatReceipt = (file: string, r: UploadReceipt.UploadReceipt): string => {
  const how = r.instant
    ? "instant upload: the server already had this content"
    : r.simple
    ? "simple upload"
    : `${r.sliceCount} slices of ${ProgressDisplay.bytes(r.sliceSize)}${
      r.slicesSkipped > 0 ? `, ${r.slicesSkipped} already on the server (resumed)` : ""
    }`
  const seconds = Math.max(r.durationMillis / 1000, 0.001)
  return [
    `uploaded ${file} → ${r.path}`,
    `  size      ${ProgressDisplay.bytes(r.fileSize)} (${r.fileSize} bytes), ${how}`,
    `  sha1      ${r.sha1} (verified by ${r.verifiedBy === "server" ? "the server at finish" : "stat after finish"})`,
    `  requests  ${r.requests}, retries ${r.retries}`,
    `  took      ${seconds.toFixed(2)} s (${ProgressDisplay.bytes(r.bytesSent / seconds)}/s sent)${
      r.hashingMillis > 0 ? `, of which ${(r.hashingMillis / 1000).toFixed(2)} s hashing before init` : ""
    }`,
    `  url       ${r.access.url}`,
    ""
  ].join("\n")
}

// ---------------------------------------------------------------------------------------------------------------
// cos stat / ls / rm / mkdir
// ---------------------------------------------------------------------------------------------------------------

const jsonFlag = Options.boolean("json").pipe(Options.withDescription("print JSON on stdout"))

const print = (json: boolean, value: unknown, text: () => string) =>
  Effect.sync(() => process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text()))

const statCommand = Command.make(
  "stat",
  { ...connectionOptions, target: Args.text({ name: "cos-path" }), json: jsonFlag },
  (args) =>
    withClient(
      args,
      () =>
        Effect.flatMap(Cos.stat(args.target), (data) =>
          print(args.json, data, () =>
            Object.entries(data).map(([k, v]) =>
              `${k.padEnd(14)} ${typeof v === "object" ? JSON.stringify(v) : String(v)}\n`
            ).join(""))),
      { quiet: args.json }
    )
).pipe(Command.withDescription("show a file's or directory's attributes (sha, size, times)"))

const lsCommand = Command.make(
  "ls",
  {
    ...connectionOptions,
    target: Args.text({ name: "cos-dir" }).pipe(Args.withDefault("/")),
    json: jsonFlag
  },
  (args) =>
    withClient(
      args,
      () =>
        Effect.gen(function*() {
          const dir = args.target.endsWith("/") ? args.target : `${args.target}/`
          const entries: Array<unknown> = []
          const lines: Array<string> = []
          let context: string | undefined = undefined
          for (;;) {
            const page: Protocol.ListData = yield* Cos.list(dir, {
              num: 199,
              ...(context === undefined ? {} : { context })
            })
            for (const e of page.infos) {
              entries.push(e)
              lines.push(
                `${e.name.endsWith("/") ? "dir " : "file"}  ${String(e.filesize ?? "").padStart(12)}  ${e.name}\n`
              )
            }
            if (page.listover || page.context === "") break
            context = page.context
          }
          yield* print(args.json, entries, () => lines.length === 0 ? `(empty)\n` : lines.join(""))
        }),
      { quiet: args.json }
    )
).pipe(Command.withDescription("list a directory"))

const rmCommand = Command.make(
  "rm",
  { ...connectionOptions, target: Args.text({ name: "cos-path" }) },
  (args) =>
    withClient(
      args,
      () =>
        Effect.zipRight(Cos.remove(args.target), Effect.sync(() => process.stdout.write(`removed ${args.target}\n`))),
      { quiet: false }
    )
).pipe(Command.withDescription("delete a file, an empty directory, or an unfinished upload"))

const mkdirCommand = Command.make(
  "mkdir",
  { ...connectionOptions, target: Args.text({ name: "cos-dir" }) },
  (args) =>
    withClient(
      args,
      () => {
        const dir = args.target.endsWith("/") ? args.target : `${args.target}/`
        return Effect.zipRight(Cos.mkdir(dir), Effect.sync(() => process.stdout.write(`created ${dir}\n`)))
      },
      { quiet: false }
    )
).pipe(Command.withDescription("create a directory"))

// ---------------------------------------------------------------------------------------------------------------
// cos serve
// ---------------------------------------------------------------------------------------------------------------

const serveCommand = Command.make(
  "serve",
  {
    host: Options.text("host").pipe(Options.withDefault("127.0.0.1")),
    port: Options.integer("port").pipe(Options.withDescription("0 = any free port"), Options.withDefault(8080)),
    dataDir: Options.text("data-dir").pipe(Options.withDefault(Connection.embeddedDataDir)),
    appId: Options.text("appid").pipe(Options.optional),
    bucket: Options.text("bucket").pipe(Options.repeated),
    credential: Options.text("credential").pipe(
      Options.withDescription("ID:KEY, repeatable"),
      Options.repeated
    ),
    auth: Options.choice("auth", ["off", "lenient", "strict"]).pipe(Options.optional)
  },
  (args) =>
    Effect.gen(function*() {
      if (args.port < 0 || args.port > 65535) {
        return yield* new CosError.InvalidArgument({
          reason: "InvalidOption",
          argument: "--port",
          detail: `${args.port} is not a port`
        })
      }
      const credentials: Array<Auth.Credential> = []
      for (const c of args.credential) {
        const parsed = Auth.parseCredential(c)
        if (Option.isNone(parsed)) {
          return yield* new CosError.InvalidArgument({
            reason: "InvalidOption",
            argument: "--credential",
            detail: `${c} is not ID:KEY`
          })
        }
        credentials.push(parsed.value)
      }
      const layer = Emulator.layer({
        host: args.host,
        port: args.port,
        appId: Option.getOrUndefined(args.appId),
        buckets: args.bucket,
        credentials,
        auth: Option.getOrUndefined(args.auth)
      }).pipe(
        Layer.provide(EmulatorStorage.layerDisk({ dataDir: path.resolve(args.dataDir) })),
        Layer.provide(NodeSha1.layer)
      )
      return yield* Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* Effect.sync(() => process.stdout.write(`listening on ${emulator.url}\n`))
        return yield* Effect.never
      }).pipe(Effect.provide(layer))
    })
).pipe(Command.withDescription("run the v4 emulator"))

// ---------------------------------------------------------------------------------------------------------------

/**
 * The root command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("cos").pipe(
  Command.withDescription(
    "upload to Tencent COS (v4 JSON API) resumably; runs against an embedded emulator by default"
  ),
  Command.withSubcommands([uploadCommand, statCommand, lsCommand, rmCommand, mkdirCommand, serveCommand])
)

/**
 * Runs the CLI on `argv` (without node and script).
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(command, { name: "cos", version: "0.1.0" })
