/**
 * The client services of the CLI: NodeCos against a remote endpoint, or against an emulator started in this
 * process (embedded mode).
 */
import * as Sha1 from "@cos-v4/core/Sha1"
import * as Emulator from "@cos-v4/emulator/Emulator"
import * as EmulatorStorage from "@cos-v4/emulator/EmulatorStorage"
import * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import * as CosConfig from "@cos-v4/slicer/CosConfig"
import * as Signer from "@cos-v4/slicer/Signer"
import * as Transport from "@cos-v4/slicer/Transport"
import * as UploadSource from "@cos-v4/slicer/UploadSource"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as path from "node:path"
import type * as Connection from "../Connection.js"

/** @internal */
export type Services =
  | Transport.Transport
  | Signer.Signer
  | CheckpointStore.CheckpointStore
  | Sha1.Sha1
  | CosConfig.CosConfig
  | FileSystem.FileSystem

/** @internal */
export const fileSource = (file: string): UploadSource.UploadSource<FileSystem.FileSystem> =>
  UploadSource.fromFile(file)

const remote = (
  settings: {
    readonly endpoint: string
    readonly appId: string
    readonly bucket: string
    readonly secretId: string
    readonly secretKey: Redacted.Redacted<string>
  },
  options: { readonly concurrency?: number | undefined }
): Layer.Layer<Services> => {
  const config = CosConfig.layer({ endpoint: settings.endpoint, appId: settings.appId, bucket: settings.bucket })
  const http = NodeHttpClient.layerWithoutAgent.pipe(
    Layer.provide(NodeHttpClient.makeAgentLayer({
      keepAlive: true,
      maxSockets: Math.max(options.concurrency ?? 4, 4),
      maxFreeSockets: Math.max(options.concurrency ?? 4, 4)
    }))
  )
  const signer = Signer.layer({ appId: settings.appId, secretId: settings.secretId, secretKey: settings.secretKey })
  const transport = Transport.layer.pipe(Layer.provide(Layer.mergeAll(http, signer)))
  return Layer.mergeAll(transport, signer, CheckpointStore.layerMemory, Sha1.layerPure, NodeFileSystem.layer).pipe(
    Layer.provideMerge(config)
  )
}

/** @internal */
export const layer = (
  resolved: Connection.Resolved,
  options: { readonly concurrency?: number | undefined }
): Layer.Layer<Services, Emulator.ListenError | EmulatorStorage.StorageError> => {
  if (resolved._tag === "Remote") return remote(resolved, options)
  const secretId = "AKIDembedded"
  const secretKey = Redacted.make(crypto.randomBytes(24).toString("base64url"))
  const emulator = Emulator.layer({
    host: "127.0.0.1",
    port: 0,
    appId: resolved.appId,
    buckets: [resolved.bucket],
    credentials: [{ secretId, secretKey }],
    auth: "lenient"
  }).pipe(Layer.provide(EmulatorStorage.layerDisk({ dataDir: path.resolve(resolved.dataDir) })))
  return Layer.unwrapEffect(
    Effect.map(
      Emulator.Emulator,
      (e) => remote({ endpoint: e.url, appId: resolved.appId, bucket: resolved.bucket, secretId, secretKey }, options)
    )
  ).pipe(Layer.provide(emulator))
}
