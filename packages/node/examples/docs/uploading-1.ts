// Generated from docs/uploading.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as NodeCos from "@cos-v4/node/NodeCos"
import * as NodeUploadSource from "@cos-v4/node/NodeUploadSource"
import * as UploadSource from "@cos-v4/slicer/UploadSource"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"

export const program = Effect.gen(function*() {
  // a file: read with positional reads into pooled slice buffers
  const a = yield* Uploader.upload(NodeUploadSource.fromFile("./video.mp4"), "/media/video.mp4", {
    concurrency: 6,
    sliceSize: 2 * 1048576
  })
  // bytes already in memory
  const b = yield* Uploader.upload(UploadSource.fromUint8Array(new TextEncoder().encode("hello")), "/hello.txt")
  // a stream of known size (read once, in order; hashed inline)
  const chunks = Stream.make(new Uint8Array(3 * 1048576), new Uint8Array(17))
  const c = yield* Uploader.upload(UploadSource.fromStream(chunks, 3 * 1048576 + 17), "/streamed.bin")
  return [a.sha1, b.sha1, c.sha1]
})

export const main = program.pipe(
  Effect.provide(NodeCos.layer({
    endpoint: "http://127.0.0.1:8080",
    appId: "1250000000",
    bucket: "bkt",
    credentials: { secretId: "AKIDexample", secretKey: Redacted.make("secret") }
  }))
)
