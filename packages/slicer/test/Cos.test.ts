import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Cos from "../src/Cos.js"
import * as Uploader from "../src/Uploader.js"
import * as UploadSource from "../src/UploadSource.js"
import * as Fake from "./fakeServer.js"

describe("Cos operations", () => {
  it.effect("stat / remove over the transport, with path validation", () =>
    Effect.gen(function*() {
      server.files.set("/a.txt", { bytes: Fake.bytes(3), sha: Fake.sha1Hex(Fake.bytes(3)) })
      const stat = yield* Cos.stat("/a.txt")
      assert.strictEqual(stat.filesize, 3)
      assert.strictEqual(stat.sha, Fake.sha1Hex(Fake.bytes(3)))
      yield* Cos.remove("/a.txt")
      assert.isFalse(server.files.has("/a.txt"))
      const missing = yield* Effect.flip(Cos.stat("/a.txt"))
      assert.deepStrictEqual(missing._tag === "ServerError" ? missing.reason : undefined, "NotFound")
      const invalid = yield* Effect.flip(Cos.list("/not-a-dir"))
      assert.strictEqual(invalid._tag, "InvalidArgument")
      assert.strictEqual(server.log.length, 3)
    }).pipe(Effect.provide(Fake.layer(server))))
})
const server = Fake.make()

// a FileSystem whose one file is `content`, with positional reads (seek + read)
const memoryFs = (content: Uint8Array) =>
  FileSystem.makeNoop({
    open: () =>
      Effect.sync(() => {
        let position = 0
        const file: FileSystem.File = {
          [FileSystem.FileTypeId]: FileSystem.FileTypeId,
          fd: FileSystem.FileDescriptor(3),
          stat: Effect.succeed({
            type: "File",
            mtime: Option.some(new Date(1_700_000_000_000)),
            atime: Option.none(),
            birthtime: Option.none(),
            dev: 0,
            ino: Option.none(),
            mode: 0o644,
            nlink: Option.none(),
            uid: Option.none(),
            gid: Option.none(),
            rdev: Option.none(),
            size: FileSystem.Size(content.length),
            blksize: Option.none(),
            blocks: Option.none()
          }),
          seek: (offset) =>
            Effect.sync(() => {
              position = Number(offset)
            }),
          sync: Effect.void,
          read: (buffer) =>
            Effect.sync(() => {
              const n = Math.max(0, Math.min(buffer.length, content.length - position))
              buffer.set(content.subarray(position, position + n))
              position += n
              return FileSystem.Size(n)
            }),
          readAlloc: () => Effect.succeedNone,
          truncate: () => Effect.void,
          write: () => Effect.succeed(FileSystem.Size(0)),
          writeAll: () => Effect.void
        }
        return file
      })
  })

describe("UploadSource.fromFile", () => {
  it.effect("uploads a FileSystem file with concurrent positional reads", () =>
    Effect.gen(function*() {
      const server = Fake.make()
      const data = Fake.bytes(9 * 1024 + 5)
      const receipt = yield* Uploader.uploadFile("/tmp/x.bin", "/x.bin", {
        sliceSize: 1024,
        simpleUploadThreshold: 0,
        concurrency: 4
      }).pipe(
        Effect.provide(Fake.layer(server)),
        Effect.provideService(FileSystem.FileSystem, memoryFs(data))
      )
      assert.deepStrictEqual(server.files.get("/x.bin")!.bytes, data)
      assert.strictEqual(receipt.sha1, Fake.sha1Hex(data))
    }))

  it.scoped("a missing file is a SourceError NotFound", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(UploadSource.fromFile("/nope").open).pipe(
        Effect.provideService(FileSystem.FileSystem, FileSystem.makeNoop({}))
      )
      assert.strictEqual(error._tag, "SourceError")
      assert.strictEqual(error.reason, "NotFound")
    }))
})
