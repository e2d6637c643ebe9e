/**
 * The crash-safe file layer of `CheckpointStore`.
 *
 * @internal
 */
import { CheckpointError } from "@cos-v4/core/CosError"
import type { Checkpoint, CheckpointStore } from "@cos-v4/slicer/CheckpointStore"
import { CheckpointFromJson } from "@cos-v4/slicer/CheckpointStore"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"

const FORMAT = "cos-v4-checkpoint/1"
const decodeRecord = Schema.decodeUnknownEither(CheckpointFromJson)
const encodeRecord = Schema.encodeSync(CheckpointFromJson)

/** @internal the file name stem of a key: no key text reaches the file system */
export const fileStem = (key: string): string => Crypto.createHash("sha256").update(key).digest("hex").slice(0, 40)

/** @internal */
export const digest = (key: string, record: string): string =>
  Crypto.createHash("sha256").update(key).update("\n").update(record).digest("hex")

/** @internal the on-disk envelope: the record's JSON text with a digest over key and text */
export const encodeFile = (key: string, checkpoint: Checkpoint): string => {
  const record = encodeRecord(checkpoint)
  return JSON.stringify({ format: FORMAT, key, digest: digest(key, record), record }) + "\n"
}

/** @internal `None` unless the file is whole, unedited, for this key and a valid record */
export const decodeFile = (key: string, text: string): Option.Option<Checkpoint> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return Option.none()
  }
  if (typeof parsed !== "object" || parsed === null) return Option.none()
  const o = parsed as Record<string, unknown>
  if (o.format !== FORMAT || o.key !== key || typeof o.record !== "string" || typeof o.digest !== "string") {
    return Option.none()
  }
  if (o.digest !== digest(key, o.record)) return Option.none()
  return Either.getRight(decodeRecord(o.record))
}

const errnoCode = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "code" in u && typeof u.code === "string" ? u.code : undefined

const io = (key: string, what: string) => (cause: unknown) =>
  new CheckpointError({ reason: "Io", key, detail: `${what}: ${String(cause)}`, cause })

/** fsync a directory so a rename or unlink in it is durable (not possible on every platform: ignored there) */
const syncDirectory = async (dir: string): Promise<void> => {
  let handle: FsP.FileHandle | undefined
  try {
    handle = await FsP.open(dir, "r")
    await handle.sync()
  } catch (e) {
    const code = errnoCode(e)
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF" && code !== "EACCES") throw e
  } finally {
    await handle?.close()
  }
}

/** A failure after `writeDurably` created its file: the file is ours to remove. */
class CreatedThenFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(String(cause))
  }
}

const writeDurably = async (path: string, text: string, flag: "wx", fsync: boolean): Promise<void> => {
  const handle = await FsP.open(path, flag, 0o600)
  try {
    await handle.writeFile(text, "utf8")
    if (fsync) await handle.sync()
  } catch (e) {
    throw new CreatedThenFailed(e)
  } finally {
    await handle.close()
  }
}

/** @internal what a lock file says about its holder */
export interface LockInfo {
  readonly pid: number
  readonly hostname: string
  /** epoch ms when the holding process started */
  readonly startedAt: number
  /** Linux: field 22 of /proc/<pid>/stat (start time in clock ticks since boot), to detect a reused pid */
  readonly procStart?: string | undefined
  readonly token: string
  readonly key: string
}

const procStartOf = (pid: number): string | undefined => {
  try {
    const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // the command name (field 2) is in parentheses and may contain spaces
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[19]
  } catch {
    return undefined
  }
}

const selfStartedAt = Date.now() - Math.round(process.uptime() * 1000)
const selfProcStart = procStartOf(process.pid)

/** @internal whether the process that wrote `info` (on this host) is gone */
export const isStale = (info: LockInfo): boolean => {
  if (info.hostname !== Os.hostname()) return false
  if (!Number.isSafeInteger(info.pid) || info.pid <= 0) return true
  try {
    process.kill(info.pid, 0)
  } catch (e) {
    return errnoCode(e) === "ESRCH"
  }
  // alive: but is it the same process, or a reused pid?
  if (info.procStart !== undefined) {
    const now = procStartOf(info.pid)
    if (now !== undefined && now !== info.procStart) return true
  }
  return false
}

const parseLock = (text: string): LockInfo | undefined => {
  try {
    const o = JSON.parse(text) as Partial<LockInfo>
    if (typeof o.pid === "number" && typeof o.hostname === "string" && typeof o.token === "string") {
      return o as LockInfo
    }
  } catch {
    // torn or foreign
  }
  return undefined
}

/** a lock file that cannot be parsed is only taken over after this long (its writer may be mid-write) */
const UNREADABLE_LOCK_GRACE_MS = 30_000

/** a takeover guard this old was left by a process that died while taking a stale lock over */
const TAKEOVER_GUARD_STALE_MS = 10_000

/** @internal */
export interface Options {
  readonly fsync?: boolean | undefined
}

/** @internal */
export const make = (directory: string, options: Options = {}): Effect.Effect<CheckpointStore.Service> =>
  Effect.sync(() => {
    const dir = Path.resolve(directory)
    const fsync = options.fsync ?? true
    const syncDir = fsync ? syncDirectory : async (_: string) => {}
    let dirReady: Promise<void> | undefined
    const ensureDir = () => dirReady ??= FsP.mkdir(dir, { recursive: true, mode: 0o700 }).then(() => undefined)
    const recordPath = (key: string) => Path.join(dir, `${fileStem(key)}.json`)
    const lockPath = (key: string) => Path.join(dir, `${fileStem(key)}.lock`)
    const tmpPath = (key: string, what: string) =>
      Path.join(dir, `${fileStem(key)}.${what}.${process.pid}.${Crypto.randomBytes(6).toString("hex")}.tmp`)

    const load = (key: string): Effect.Effect<Option.Option<Checkpoint>, CheckpointError> =>
      Effect.tryPromise({
        try: async () => {
          try {
            return decodeFile(key, await FsP.readFile(recordPath(key), "utf8"))
          } catch (e) {
            if (errnoCode(e) === "ENOENT") return Option.none()
            throw e
          }
        },
        catch: io(key, "reading the checkpoint")
      })

    const save = (key: string, checkpoint: Checkpoint): Effect.Effect<void, CheckpointError> =>
      Effect.tryPromise({
        try: async () => {
          await ensureDir()
          const tmp = tmpPath(key, "record")
          try {
            await writeDurably(tmp, encodeFile(key, checkpoint), "wx", fsync)
            await FsP.rename(tmp, recordPath(key))
          } catch (e) {
            await FsP.rm(tmp, { force: true })
            throw e instanceof CreatedThenFailed ? e.cause : e
          }
          await syncDir(dir)
        },
        catch: io(key, "writing the checkpoint")
      })

    const remove = (key: string): Effect.Effect<void, CheckpointError> =>
      Effect.tryPromise({
        try: async () => {
          try {
            await FsP.unlink(recordPath(key))
          } catch (e) {
            if (errnoCode(e) === "ENOENT") return
            throw e
          }
          await syncDir(dir)
        },
        catch: io(key, "removing the checkpoint")
      })

    type Acquired = { readonly _tag: "acquired"; readonly token: string } | {
      readonly _tag: "locked"
      readonly detail: string
    }

    const tryAcquire = async (key: string): Promise<Acquired> => {
      await ensureDir()
      const path = lockPath(key)
      for (let attempt = 0; attempt < 4; attempt++) {
        const info: LockInfo = {
          pid: process.pid,
          hostname: Os.hostname(),
          startedAt: selfStartedAt,
          procStart: selfProcStart,
          token: Crypto.randomBytes(12).toString("hex"),
          key
        }
        try {
          await writeDurably(path, JSON.stringify(info), "wx", fsync)
          await syncDir(dir)
          return { _tag: "acquired", token: info.token }
        } catch (e) {
          // a lock file we created but could not write is ours to remove; when creating it failed (EMFILE, EACCES,
          // ...), the file there, if any, is somebody else's
          if (e instanceof CreatedThenFailed) {
            await FsP.rm(path, { force: true }).catch(() => undefined)
            throw e.cause
          }
          if (errnoCode(e) !== "EEXIST") throw e
        }
        // held: by a live process, or left behind by a dead one?
        let text: string
        let mtimeMs: number
        try {
          text = await FsP.readFile(path, "utf8")
          mtimeMs = (await FsP.stat(path)).mtimeMs
        } catch (e) {
          if (errnoCode(e) === "ENOENT") continue // released meanwhile
          throw e
        }
        const holder = parseLock(text)
        const stale = holder === undefined ? Date.now() - mtimeMs > UNREADABLE_LOCK_GRACE_MS : isStale(holder)
        if (!stale) {
          return {
            _tag: "locked",
            detail: holder === undefined
              ? "another upload holds this target (lock file being written)"
              : `another upload holds this target (pid ${holder.pid} on ${holder.hostname}, since ${
                new Date(holder.startedAt).toISOString()
              })`
          }
        }
        // Take the stale lock over under a guard file that one process at a time creates ("wx"). Without it, two
        // processes could both judge the lock stale; one removes it and takes the target, and the other then
        // removes that fresh lock. Under the guard, the stale file is removed only if it still holds what we judged:
        // nobody can have replaced it meanwhile, as a lock is only created where none exists, and only the guard's
        // holder removes a stale one. Then every contender races to create the lock with "wx" again.
        const guard = `${path}.takeover`
        try {
          await writeDurably(guard, String(process.pid), "wx", false)
        } catch (e) {
          if (e instanceof CreatedThenFailed) {
            await FsP.rm(guard, { force: true }).catch(() => undefined)
            throw e.cause
          }
          if (errnoCode(e) !== "EEXIST") throw e
          // a guard left by a process that died mid-takeover (a takeover takes milliseconds) is removed
          const age = await FsP.stat(guard).then((st) => Date.now() - st.mtimeMs, () => 0)
          if (age > TAKEOVER_GUARD_STALE_MS) await FsP.rm(guard, { force: true })
          return { _tag: "locked", detail: "another upload holds this target (a stale lock is being taken over)" }
        }
        try {
          const now = await FsP.readFile(path, "utf8").catch(() => undefined)
          if (now === text) await FsP.rm(path, { force: true })
        } finally {
          await FsP.rm(guard, { force: true })
        }
      }
      return { _tag: "locked", detail: "another upload holds this target (contended lock)" }
    }

    const release = (key: string, token: string) =>
      Effect.promise(async () => {
        const path = lockPath(key)
        try {
          const holder = parseLock(await FsP.readFile(path, "utf8"))
          if (holder?.token === token) {
            await FsP.unlink(path)
            await syncDir(dir)
          }
        } catch {
          // already gone, or unreadable: never fail a release
        }
      })

    const lock = (key: string) =>
      Effect.acquireRelease(
        Effect.flatMap(
          Effect.tryPromise({ try: () => tryAcquire(key), catch: io(key, "taking the lock") }),
          (r) =>
            r._tag === "acquired"
              ? Effect.succeed(r.token)
              : Effect.fail(new CheckpointError({ reason: "Locked", key, detail: r.detail }))
        ),
        (token) => release(key, token)
      ).pipe(Effect.asVoid)

    const service: CheckpointStore.Service = { load, save, remove, lock }
    return service
  })

/** @internal the default directory: `$XDG_CACHE_HOME/cos-v4/checkpoints` or `~/.cache/cos-v4/checkpoints` */
export const defaultDirectory = (): string => {
  const xdg = process.env.XDG_CACHE_HOME
  const base = xdg !== undefined && xdg !== "" ? xdg : Path.join(Os.homedir(), ".cache")
  return Path.join(base, "cos-v4", "checkpoints")
}
