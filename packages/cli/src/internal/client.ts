/**
 * The client services of the CLI: NodeCos against a remote endpoint, or against an emulator started in this
 * process (embedded mode).
 */
import * as Emulator from "@cos-v4/emulator/Emulator"
import * as EmulatorStorage from "@cos-v4/emulator/EmulatorStorage"
import * as NodeCos from "@cos-v4/node/NodeCos"
import * as NodeSha1 from "@cos-v4/node/NodeSha1"
import * as NodeUploadSource from "@cos-v4/node/NodeUploadSource"
import type * as UploadSource from "@cos-v4/slicer/UploadSource"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as path from "node:path"
import type * as Connection from "../Connection.js"

/** @internal */
export type Services = NodeCos.Services

/** @internal */
export const fileSource = (file: string): UploadSource.UploadSource => NodeUploadSource.fromFile(file)

const remote = (
  settings: {
    readonly endpoint: string
    readonly appId: string
    readonly bucket: string
    readonly secretId: string
    readonly secretKey: Redacted.Redacted<string>
    readonly site?: string | undefined
  },
  options: {
    readonly concurrency?: number | undefined
    readonly checkpointDir?: string | undefined
    readonly fsyncCheckpoints?: boolean | undefined
  }
): Layer.Layer<Services> =>
  NodeCos.layer({
    endpoint: settings.endpoint,
    appId: settings.appId,
    bucket: settings.bucket,
    site: settings.site,
    credentials: { secretId: settings.secretId, secretKey: settings.secretKey },
    checkpointDir: options.checkpointDir,
    checkpoints: { fsync: options.fsyncCheckpoints ?? true },
    concurrency: options.concurrency
  })

/** @internal */
export const layer = (
  resolved: Connection.Resolved,
  options: { readonly concurrency?: number | undefined }
): Layer.Layer<Services, Emulator.ListenError | EmulatorStorage.StorageError> => {
  if (resolved._tag === "Remote") return remote(resolved, options)
  const secretId = "AKIDembedded"
  const secretKey = Redacted.make(crypto.randomBytes(24).toString("base64url"))
  const dataDir = path.resolve(resolved.dataDir)
  const emulator = Emulator.layer({
    host: "127.0.0.1",
    port: 0,
    appId: resolved.appId,
    buckets: [resolved.bucket],
    credentials: [{ secretId, secretKey }],
    auth: "lenient"
  }).pipe(
    Layer.provide(EmulatorStorage.layerDisk({ dataDir })),
    Layer.provide(NodeSha1.layer)
  )
  return Layer.unwrapEffect(
    Effect.map(
      Emulator.Emulator,
      (e) =>
        remote({
          endpoint: e.url,
          appId: resolved.appId,
          bucket: resolved.bucket,
          secretId,
          secretKey,
          // a free port each run: checkpoints name the emulator by its data, so a rerun resumes
          site: `embedded:${dataDir}`
        }, options)
    )
  ).pipe(Layer.provide(emulator))
}
