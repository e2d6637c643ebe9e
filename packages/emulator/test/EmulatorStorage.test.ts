import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as EmulatorStorage from "../src/EmulatorStorage.js"

const session = (id: string, expires: number): EmulatorStorage.SessionRecord => ({
  id,
  bucket: "1/b",
  path: `/${id}.bin`,
  filesize: 20,
  sliceSize: 10,
  sha: null,
  uploadParts: null,
  bizAttr: "",
  insertOnly: true,
  ctime: 0,
  expires
})

const withDisk = <A, E>(dataDir: string, f: (s: EmulatorStorage.EmulatorStorage.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(EmulatorStorage.EmulatorStorage, f).pipe(Effect.provide(EmulatorStorage.layerDisk({ dataDir })))

describe("EmulatorStorage", () => {
  it.effect("disk: a crash between the rename of a finish and its commit is rolled back at startup", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cos-emu-store-"))
      const s = session("0b5e6f9c-0000-4000-8000-000000000001", 100)
      yield* withDisk(dataDir, (store) =>
        Effect.gen(function*() {
          yield* store.createSession(s)
          assert.isTrue(yield* store.writeSlice(s, 0, Buffer.alloc(10, 1), 100, 3600))
          assert.isTrue(yield* store.writeSlice(s, 10, Buffer.alloc(10, 2), 100, 3600))
        }))
      // simulate the crash: the file was moved into place, the metadata commit never happened
      fs.renameSync(path.join(dataDir, "sessions", s.id), path.join(dataDir, "objects", s.id))
      // plus an orphan object and an orphan session file
      fs.writeFileSync(path.join(dataDir, "objects", "orphan"), "x")
      fs.writeFileSync(path.join(dataDir, "sessions", "orphan"), "x")
      yield* withDisk(dataDir, (store) =>
        Effect.gen(function*() {
          const back = yield* store.getSession(s.id)
          assert.strictEqual(back?.path, s.path)
          assert.deepStrictEqual(yield* store.slicesOf(s.id), [{ offset: 0, datalen: 10 }, { offset: 10, datalen: 10 }])
          const chunks: Array<Uint8Array> = []
          yield* store.readSession(s, (c) => chunks.push(Buffer.from(c)))
          assert.isTrue(Buffer.concat(chunks).equals(Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(10, 2)])))
        }))
      assert.deepStrictEqual(fs.readdirSync(path.join(dataDir, "objects")), [])
      assert.deepStrictEqual(fs.readdirSync(path.join(dataDir, "sessions")), [s.id])
      fs.rmSync(dataDir, { recursive: true, force: true })
    }))

  it.effect("a slice moves the session's expiry once it is refreshAfterSeconds older", () =>
    Effect.gen(function*() {
      // a 10 s lifetime from 0: a slice at 6 s (expiry 16, refreshed after 5 s) keeps the session past 12 s
      const store = yield* EmulatorStorage.EmulatorStorage
      const s = session("t", 10)
      yield* store.createSession(s)
      assert.isTrue(yield* store.writeSlice(s, 0, Buffer.alloc(10, 1), 16, 5))
      assert.strictEqual(yield* store.sweepExpired(12), 0)
      assert.isDefined(yield* store.getSession("t"))
    }).pipe(Effect.provide(EmulatorStorage.layerMemory)))

  it.effect("expired sessions and replay records are swept", () =>
    Effect.gen(function*() {
      const store = yield* EmulatorStorage.EmulatorStorage
      yield* store.createSession(session("a", 50))
      yield* store.createSession(session("b", 500))
      assert.isTrue(yield* store.rememberSignature("k", 60, 10))
      assert.isFalse(yield* store.rememberSignature("k", 60, 20))
      assert.strictEqual(yield* store.sweepExpired(100), 1)
      assert.isUndefined(yield* store.getSession("a"))
      assert.isDefined(yield* store.getSession("b"))
      assert.isTrue(yield* store.rememberSignature("k", 200, 100))
    }).pipe(Effect.provide(EmulatorStorage.layerMemory)))
})
