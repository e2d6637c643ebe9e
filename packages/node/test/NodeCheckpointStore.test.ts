import type { CheckpointError } from "@cos-v4/core/CosError"
import * as CheckpointStore from "@cos-v4/slicer/CheckpointStore"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NodeCheckpointStore from "../src/NodeCheckpointStore.js"
import { tempDir } from "./helpers.js"

const root = tempDir("checkpoints")
afterAll(() => Fs.rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => Path.join(root, `store-${n++}`)

const target: CheckpointStore.Target = {
  endpoint: "http://127.0.0.1:1",
  appId: "1250000000",
  bucket: "bkt",
  path: "/a/b c/文件.bin"
}
const key = CheckpointStore.key(target)

const checkpoint = (acknowledged: ReadonlyArray<number>): CheckpointStore.Checkpoint => ({
  version: 1,
  target,
  source: { size: 5 * 1048576, mtimeMs: 1700000000000, sample: "abc" },
  session: "session-1",
  sliceSize: 1048576,
  fileSize: 5 * 1048576,
  sha: "da39a3ee5e6b4b0d3255bfef95601890afd80709",
  integrity: "sha-at-init",
  acknowledged,
  updatedAt: 1700000000123
})

const lockFailure = (exit: Exit.Exit<unknown, CheckpointError>): string | undefined =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error.reason : undefined

// the contract: the same suite runs against the memory layer and the file layer
const stores: ReadonlyArray<readonly [string, () => Effect.Effect<CheckpointStore.CheckpointStore.Service>]> = [
  ["memory", () => CheckpointStore.makeMemory],
  ["file", () => NodeCheckpointStore.make(freshDir())],
  ["file without fsync", () => NodeCheckpointStore.make(freshDir(), { fsync: false })]
]

describe.each(stores)("CheckpointStore contract (%s)", (_name, makeStore) => {
  it.effect("load of an unknown key is None", () =>
    Effect.gen(function*() {
      const store = yield* makeStore()
      assert.isTrue(Option.isNone(yield* store.load(key)))
    }))

  it.effect("save then load returns the record; a later save replaces it", () =>
    Effect.gen(function*() {
      const store = yield* makeStore()
      yield* store.save(key, checkpoint([0]))
      assert.deepStrictEqual(yield* store.load(key), Option.some(checkpoint([0])))
      yield* store.save(key, checkpoint([0, 1048576, 3145728]))
      assert.deepStrictEqual(yield* store.load(key), Option.some(checkpoint([0, 1048576, 3145728])))
    }))

  it.effect("keys are independent", () =>
    Effect.gen(function*() {
      const store = yield* makeStore()
      const other = CheckpointStore.key({ ...target, path: "/other" })
      yield* store.save(key, checkpoint([0]))
      assert.isTrue(Option.isNone(yield* store.load(other)))
    }))

  it.effect("remove deletes the record, and removing a missing record succeeds", () =>
    Effect.gen(function*() {
      const store = yield* makeStore()
      yield* store.save(key, checkpoint([0]))
      yield* store.remove(key)
      assert.isTrue(Option.isNone(yield* store.load(key)))
      yield* store.remove(key)
    }))

  it.effect("a second lock on a held key fails with Locked; after release it can be taken again", () =>
    Effect.gen(function*() {
      const store = yield* makeStore()
      const second = yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lock(key)
        return yield* Effect.exit(Effect.scoped(store.lock(key)))
      }))
      assert.strictEqual(lockFailure(second), "Locked")
      // another key is not affected, and the released key can be locked again
      const again = yield* Effect.exit(Effect.scoped(store.lock(key)))
      assert.isTrue(Exit.isSuccess(again))
    }))
})

describe("NodeCheckpointStore (files)", () => {
  const recordFile = (dir: string) => {
    const files = Fs.readdirSync(dir).filter((f) => f.endsWith(".json"))
    assert.strictEqual(files.length, 1)
    return Path.join(dir, files[0]!)
  }

  it.effect("records survive a new store over the same directory; no key text reaches a file name", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* Effect.flatMap(NodeCheckpointStore.make(dir), (s) => s.save(key, checkpoint([0])))
      const reopened = yield* NodeCheckpointStore.make(dir)
      assert.deepStrictEqual(yield* reopened.load(key), Option.some(checkpoint([0])))
      const name = Path.basename(recordFile(dir))
      assert.match(name, /^[0-9a-f]{40}\.json$/)
      assert.deepStrictEqual(Fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
    }))

  it.effect("a truncated (torn) record reads as None", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      yield* store.save(key, checkpoint([0, 1048576]))
      const file = recordFile(dir)
      const text = Fs.readFileSync(file, "utf8")
      Fs.writeFileSync(file, text.slice(0, Math.floor(text.length / 2)))
      assert.isTrue(Option.isNone(yield* store.load(key)))
      Fs.writeFileSync(file, "")
      assert.isTrue(Option.isNone(yield* store.load(key)))
    }))

  it.effect("an edited record (valid JSON, wrong digest) reads as None", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      yield* store.save(key, checkpoint([0]))
      const file = recordFile(dir)
      const envelope = JSON.parse(Fs.readFileSync(file, "utf8"))
      // still a perfectly valid record, but not the one that was written
      envelope.record = envelope.record.replace("session-1", "session-2")
      Fs.writeFileSync(file, JSON.stringify(envelope))
      assert.isTrue(Option.isNone(yield* store.load(key)))
    }))

  it.effect("a record stored under another key's file name reads as None", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      const other = CheckpointStore.key({ ...target, path: "/other" })
      yield* store.save(other, checkpoint([0]))
      const otherFile = recordFile(dir)
      yield* store.save(key, checkpoint([0, 1048576]))
      const keyFile = Fs.readdirSync(dir).map((f) => Path.join(dir, f)).find((f) =>
        f !== otherFile && f.endsWith(".json")
      )!
      Fs.copyFileSync(otherFile, keyFile)
      assert.isTrue(Option.isNone(yield* store.load(key)))
    }))

  it.scoped("the lock file names its holder and is removed on release", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lock(key)
        const locks = Fs.readdirSync(dir).filter((f) => f.endsWith(".lock"))
        assert.strictEqual(locks.length, 1)
        const info = JSON.parse(Fs.readFileSync(Path.join(dir, locks[0]!), "utf8"))
        assert.strictEqual(info.pid, process.pid)
        assert.strictEqual(info.hostname, Os.hostname())
        assert.isNumber(info.startedAt)
      }))
      assert.deepStrictEqual(Fs.readdirSync(dir).filter((f) => f.endsWith(".lock")), [])
    }))

  it.effect("two stores (as two processes would) over one directory exclude each other", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const a = yield* NodeCheckpointStore.make(dir)
      const b = yield* NodeCheckpointStore.make(dir)
      const exit = yield* Effect.scoped(Effect.zipRight(a.lock(key), Effect.exit(Effect.scoped(b.lock(key)))))
      assert.strictEqual(lockFailure(exit), "Locked")
    }))

  it.effect("a lock held by a live process on this host is not taken over", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      // learn the lock file's name, then forge a lock of our parent process (alive)
      const lockName = yield* Effect.scoped(Effect.zipRight(
        store.lock(key),
        Effect.sync(() => Fs.readdirSync(dir).find((f) => f.endsWith(".lock"))!)
      ))
      Fs.writeFileSync(
        Path.join(dir, lockName),
        JSON.stringify({ pid: process.ppid, hostname: Os.hostname(), startedAt: 0, token: "x", key })
      )
      const exit = yield* Effect.exit(Effect.scoped(store.lock(key)))
      assert.strictEqual(lockFailure(exit), "Locked")
    }))

  it.effect("a lock left by a dead process is taken over", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      // a real dead pid: a child that exited (and was reaped)
      const child = ChildProcess.spawnSync(process.execPath, ["-e", "process.exit(0)"])
      const deadPid = child.pid!
      const lockName = yield* Effect.scoped(Effect.zipRight(
        store.lock(key),
        Effect.sync(() => Fs.readdirSync(dir).find((f) => f.endsWith(".lock"))!)
      ))
      const lockPath = Path.join(dir, lockName)
      Fs.writeFileSync(
        lockPath,
        JSON.stringify({ pid: deadPid, hostname: Os.hostname(), startedAt: 0, token: "dead", key })
      )
      yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lock(key)
        const info = JSON.parse(Fs.readFileSync(lockPath, "utf8"))
        assert.strictEqual(info.pid, process.pid)
      }))
      assert.isFalse(Fs.existsSync(lockPath))
    }))

  it.effect("a stale lock is taken over by one process at a time (a takeover guard); a dead taker's guard expires", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      const child = ChildProcess.spawnSync(process.execPath, ["-e", "process.exit(0)"])
      const lockName = yield* Effect.scoped(Effect.zipRight(
        store.lock(key),
        Effect.sync(() => Fs.readdirSync(dir).find((f) => f.endsWith(".lock"))!)
      ))
      const lockPath = Path.join(dir, lockName)
      const dead = JSON.stringify({ pid: child.pid!, hostname: Os.hostname(), startedAt: 0, token: "dead", key })
      Fs.writeFileSync(lockPath, dead)
      // another process is taking it over right now: we do not touch the lock
      const guard = `${lockPath}.takeover`
      Fs.writeFileSync(guard, "12345")
      assert.strictEqual(lockFailure(yield* Effect.exit(Effect.scoped(store.lock(key)))), "Locked")
      assert.strictEqual(Fs.readFileSync(lockPath, "utf8"), dead)
      // that process died mid-takeover: its guard, once old, is removed, and the next attempt takes the lock over
      const old = new Date(Date.now() - 60_000)
      Fs.utimesSync(guard, old, old)
      assert.strictEqual(lockFailure(yield* Effect.exit(Effect.scoped(store.lock(key)))), "Locked")
      assert.isFalse(Fs.existsSync(guard))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* store.lock(key)
        assert.strictEqual(JSON.parse(Fs.readFileSync(lockPath, "utf8")).pid, process.pid)
      }))
      assert.isFalse(Fs.existsSync(guard))
    }))

  it.effect("a lock from another host is never taken over", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeCheckpointStore.make(dir)
      const lockName = yield* Effect.scoped(Effect.zipRight(
        store.lock(key),
        Effect.sync(() => Fs.readdirSync(dir).find((f) => f.endsWith(".lock"))!)
      ))
      Fs.writeFileSync(
        Path.join(dir, lockName),
        JSON.stringify({ pid: 999999999, hostname: `${Os.hostname()}-elsewhere`, startedAt: 0, token: "y", key })
      )
      const exit = yield* Effect.exit(Effect.scoped(store.lock(key)))
      assert.strictEqual(lockFailure(exit), "Locked")
    }))
})
