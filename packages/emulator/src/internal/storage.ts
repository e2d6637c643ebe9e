/**
 * The emulator's metadata (SQLite through @effect/sql) and its byte storage (internal/blobs.ts), as one
 * service. Objects are keyed by (bucket, path) in SQLite; their bytes live under server-chosen ids.
 *
 * @internal
 */
import type * as Sha1 from "@cos-v4/core/Sha1"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import type { Blobs } from "./blobs.js"
import * as SliceHasher from "./sliceHasher.js"
import { StorageError } from "./storageError.js"

/** @internal */
export interface ObjectRecord {
  readonly bucket: string
  readonly path: string
  readonly kind: "file" | "dir"
  readonly blob: string | null
  readonly size: number
  readonly sha: string | null
  readonly bizAttr: string
  readonly authority: string
  readonly customHeaders: string
  readonly forbid: number
  readonly ctime: number
  readonly mtime: number
}

/** @internal */
export interface SessionRecord {
  readonly id: string
  readonly bucket: string
  readonly path: string
  readonly filesize: number
  readonly sliceSize: number
  readonly sha: string | null
  readonly uploadParts: string | null
  readonly bizAttr: string
  readonly insertOnly: boolean
  readonly ctime: number
  readonly expires: number
}

/** @internal */
export interface ListOptions {
  readonly prefix: string
  readonly after: string | undefined
  readonly descending: boolean
  readonly limit: number
  readonly kind: "file" | "dir" | undefined
}

/** @internal */
export interface Store {
  readonly getObject: (bucket: string, path: string) => Effect.Effect<ObjectRecord | undefined, StorageError>
  readonly listDirectory: (
    bucket: string,
    dir: string,
    options: ListOptions
  ) => Effect.Effect<ReadonlyArray<ObjectRecord>, StorageError>
  readonly hasChildren: (bucket: string, dir: string) => Effect.Effect<boolean, StorageError>
  readonly findFileBySha: (
    bucket: string,
    sha: string,
    size: number
  ) => Effect.Effect<ObjectRecord | undefined, StorageError>
  /** Stores new bytes and commits the object (and missing `parents`), replacing a file at the same path. */
  readonly putFile: (
    record: ObjectRecord,
    data: Uint8Array,
    parents: ReadonlyArray<string>
  ) => Effect.Effect<void, StorageError>
  /** Commits an object whose blob already exists (instant upload, copy). */
  readonly linkFile: (record: ObjectRecord, parents: ReadonlyArray<string>) => Effect.Effect<void, StorageError>
  readonly createDirectory: (record: ObjectRecord, parents: ReadonlyArray<string>) => Effect.Effect<void, StorageError>
  readonly removeObject: (bucket: string, path: string) => Effect.Effect<void, StorageError>
  readonly updateObject: (
    bucket: string,
    path: string,
    patch: {
      readonly bizAttr?: string | undefined
      readonly authority?: string | undefined
      readonly customHeaders?: string | undefined
      readonly forbid?: number | undefined
      readonly mtime: number
    }
  ) => Effect.Effect<void, StorageError>
  /** Moves a file record (the blob stays); `to` replaces an existing file when present. */
  readonly moveFile: (
    bucket: string,
    from: string,
    to: string,
    now: number,
    parents: ReadonlyArray<string>
  ) => Effect.Effect<void, StorageError>
  readonly getSession: (id: string) => Effect.Effect<SessionRecord | undefined, StorageError>
  readonly sessionAt: (bucket: string, path: string) => Effect.Effect<SessionRecord | undefined, StorageError>
  readonly countSessions: (bucket: string) => Effect.Effect<number, StorageError>
  readonly hasSessionsUnder: (bucket: string, dir: string) => Effect.Effect<boolean, StorageError>
  readonly createSession: (record: SessionRecord) => Effect.Effect<void, StorageError>
  /** Writes a slice at its offset and records it; `false` when the session vanished meanwhile. */
  readonly writeSlice: (
    session: SessionRecord,
    offset: number,
    data: Uint8Array,
    expires: number,
    /** the session's expiry moves to `expires` when it is this many seconds older (one statement per slice else) */
    refreshAfterSeconds: number
  ) => Effect.Effect<boolean, StorageError>
  readonly slicesOf: (id: string) => Effect.Effect<ReadonlyArray<{ offset: number; datalen: number }>, StorageError>
  readonly readSession: (session: SessionRecord, onChunk: (chunk: Uint8Array) => void) => Effect.Effect<
    void,
    StorageError
  >
  /**
   * Records an acknowledged slice for the session's running SHA-1 (call it after `writeSlice` succeeded);
   * `retain` keeps the slice's request buffer alive until the returned function runs.
   */
  readonly sliceStored: (
    session: SessionRecord,
    offset: number,
    data: Uint8Array,
    retain: () => () => void,
    sha1Make: () => Sha1.Sha1Hasher
  ) => void
  /** Completes once fewer than `below` of the session's slices wait to be hashed (see `SliceHasher.backlogBelow`). */
  readonly hashBacklogBelow: (id: string, below: number) => Effect.Effect<void>
  /**
   * The SHA-1 of the session's file (and its `uploadparts` states at their granularity, with more than one declared
   * part): the running hash continued over the rest of the file, or the whole file when there is none. Call it
   * holding the session exclusively. `undefined` when the declared granularity is not usable.
   */
  readonly hashSession: (
    session: SessionRecord,
    sha1Make: () => Sha1.Sha1Hasher
  ) => Effect.Effect<SliceHasher.Result | undefined, StorageError>
  /** Runs `effect` holding the session exclusively (no slice write runs meanwhile). */
  readonly exclusive: <A, E, R>(id: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Moves the session's bytes into place and commits `record` (the finished file); drops the session. */
  readonly finishSession: (
    session: SessionRecord,
    record: ObjectRecord,
    parents: ReadonlyArray<string>
  ) => Effect.Effect<void, StorageError>
  readonly discardSession: (id: string) => Effect.Effect<void, StorageError>
  readonly sweepExpired: (now: number) => Effect.Effect<number, StorageError>
  /** Remembers a single-use signature; `false` when it was seen before (a replay). */
  readonly rememberSignature: (key: string, expires: number, now: number) => Effect.Effect<boolean, StorageError>
  readonly readObject: (blob: string) => Effect.Effect<Buffer, StorageError>
  readonly newId: () => string
}

const sqlError = (e: SqlError) => new StorageError({ reason: "Sql", detail: e.message, cause: e })

/** @internal */
export const parentOf = (path: string): string => {
  const body = path.endsWith("/") ? path.slice(0, -1) : path
  const i = body.lastIndexOf("/")
  return i <= 0 ? "/" : body.slice(0, i + 1)
}

/** @internal */
export const nameOf = (path: string): string => {
  if (path === "/") return ""
  const body = path.endsWith("/") ? path.slice(0, -1) : path
  return body.slice(body.lastIndexOf("/") + 1) + (path.endsWith("/") ? "/" : "")
}

interface ObjectRow {
  readonly bucket: string
  readonly path: string
  readonly kind: string
  readonly blob: string | null
  readonly size: number
  readonly sha: string | null
  readonly biz_attr: string
  readonly authority: string
  readonly custom_headers: string
  readonly forbid: number
  readonly ctime: number
  readonly mtime: number
}

interface SessionRow {
  readonly id: string
  readonly bucket: string
  readonly path: string
  readonly filesize: number
  readonly slice_size: number
  readonly sha: string | null
  readonly uploadparts: string | null
  readonly biz_attr: string
  readonly insert_only: number
  readonly ctime: number
  readonly expires: number
}

const toObject = (r: ObjectRow): ObjectRecord => ({
  bucket: r.bucket,
  path: r.path,
  kind: r.kind === "dir" ? "dir" : "file",
  blob: r.blob,
  size: r.size,
  sha: r.sha,
  bizAttr: r.biz_attr,
  authority: r.authority,
  customHeaders: r.custom_headers,
  forbid: r.forbid,
  ctime: r.ctime,
  mtime: r.mtime
})

const toSession = (r: SessionRow): SessionRecord => ({
  id: r.id,
  bucket: r.bucket,
  path: r.path,
  filesize: r.filesize,
  sliceSize: r.slice_size,
  sha: r.sha,
  uploadParts: r.uploadparts,
  bizAttr: r.biz_attr,
  insertOnly: r.insert_only === 1,
  ctime: r.ctime,
  expires: r.expires
})

const schema = [
  `CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, path TEXT NOT NULL, parent TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    blob TEXT, size INTEGER NOT NULL DEFAULT 0, sha TEXT, biz_attr TEXT NOT NULL DEFAULT '',
    authority TEXT NOT NULL DEFAULT 'eInvalid', custom_headers TEXT NOT NULL DEFAULT '{}',
    forbid INTEGER NOT NULL DEFAULT 0, ctime INTEGER NOT NULL, mtime INTEGER NOT NULL,
    PRIMARY KEY (bucket, path))`,
  `CREATE INDEX IF NOT EXISTS objects_parent ON objects (bucket, parent, name)`,
  `CREATE INDEX IF NOT EXISTS objects_sha ON objects (bucket, sha, size)`,
  `CREATE INDEX IF NOT EXISTS objects_blob ON objects (blob)`,
  `CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, bucket TEXT NOT NULL, path TEXT NOT NULL, parent TEXT NOT NULL,
    filesize INTEGER NOT NULL, slice_size INTEGER NOT NULL, sha TEXT, uploadparts TEXT,
    biz_attr TEXT NOT NULL, insert_only INTEGER NOT NULL, ctime INTEGER NOT NULL, expires INTEGER NOT NULL,
    UNIQUE (bucket, path))`,
  `CREATE INDEX IF NOT EXISTS sessions_parent ON sessions (bucket, parent)`,
  `CREATE TABLE IF NOT EXISTS slices (
    session TEXT NOT NULL, offset INTEGER NOT NULL, datalen INTEGER NOT NULL, PRIMARY KEY (session, offset))`,
  `CREATE TABLE IF NOT EXISTS replay (key TEXT PRIMARY KEY, expires INTEGER NOT NULL)`
]

const permits = 1 << 20

const insertSlice = "INSERT OR REPLACE INTO slices (session, offset, datalen) VALUES (?, ?, ?)"

/** @internal */
export const make = (
  blobs: Blobs,
  options: {
    /**
     * The WAL file to `fdatasync` after each commit before it is acknowledged (durable commits without blocking
     * the event loop: SQLite itself runs `synchronous=NORMAL`); `undefined` = no syncs.
     */
    readonly walFile: string | undefined
  }
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const run = <A>(e: Effect.Effect<A, SqlError>): Effect.Effect<A, StorageError> => Effect.mapError(e, sqlError)
    // commits are made durable by `durable` below (an fdatasync of the WAL in libuv's thread pool, shared by
    // concurrent commits), not by SQLite's own fsync, which would block the event loop on every slice
    yield* run(sql.unsafe(`PRAGMA synchronous = NORMAL`))
    const walFile = options.walFile
    let walRound: Promise<void> | undefined
    let walNext: Promise<void> | undefined
    const syncWal = (): Promise<void> =>
      new Promise<void>((resolve, reject) =>
        fs.open(walFile!, "r", (err, fd) => {
          if (err) return err.code === "ENOENT" ? resolve() : reject(err)
          fs.fdatasync(fd, (err2) => fs.close(fd, () => (err2 ? reject(err2) : resolve())))
        })
      )
    /** Group commit: a commit finished while a sync runs waits for the next sync, which covers it. */
    const walSync = (): Promise<void> => {
      if (walRound === undefined) {
        walRound = syncWal().finally(() => {
          walRound = undefined
        })
        return walRound
      }
      if (walNext === undefined) {
        const after = walRound.catch(() => undefined)
        walNext = after.then(() => {
          walNext = undefined
          return walSync()
        })
      }
      return walNext
    }
    const durable: Effect.Effect<void, StorageError> = walFile === undefined
      ? Effect.void
      : Effect.tryPromise({
        try: walSync,
        catch: (cause) => new StorageError({ reason: "Io", detail: `fdatasync wal: ${String(cause)}`, cause })
      })
    const runW = <A>(e: Effect.Effect<A, SqlError>): Effect.Effect<A, StorageError> => Effect.zipLeft(run(e), durable)
    yield* run(sql.unsafe(`PRAGMA foreign_keys = OFF`))
    for (const stmt of schema) yield* run(sql.unsafe(stmt))

    // startup reconciliation between metadata and files
    const sessionIds = yield* run(sql<{ id: string }>`SELECT id FROM sessions`)
    const blobIds = yield* run(sql<{ blob: string }>`SELECT DISTINCT blob FROM objects WHERE blob IS NOT NULL`)
    const lost = yield* blobs.reconcile(new Set(sessionIds.map((r) => r.id)), new Set(blobIds.map((r) => r.blob)))
    for (const id of lost) {
      yield* run(sql`DELETE FROM slices WHERE session = ${id}`)
      yield* run(sql`DELETE FROM sessions WHERE id = ${id}`)
    }

    // live sessions by id (the slice path reads no session row from SQLite); dropped on finish/discard
    const cache = new Map<string, SessionRecord>()
    // sessions being finished or discarded: gone for readers from the start of the removal (a read between the
    // cache drop and the SQL delete would otherwise put the row back in the cache for good)
    const removing = new Set<string>()
    const removal = <A, E>(id: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        removing.add(id)
        cache.delete(id)
        return Effect.ensuring(
          effect,
          Effect.sync(() => {
            cache.delete(id)
            removing.delete(id)
          })
        )
      })
    // running SHA-1s of the live sessions (memory only: after a restart finish hashes the whole file)
    const hasher = SliceHasher.make()
    const dropHash = (id: string) => hasher.drop(id)
    const locks = new Map<string, { sem: Effect.Semaphore; users: number }>()
    const withLock = <A, E, R>(id: string, n: number, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.suspend(() => {
        let lock = locks.get(id)
        if (lock === undefined) {
          lock = { sem: Effect.unsafeMakeSemaphore(permits), users: 0 }
          locks.set(id, lock)
        }
        const l = lock
        l.users++
        return l.sem.withPermits(n)(effect).pipe(
          Effect.ensuring(Effect.sync(() => {
            l.users--
            if (l.users === 0) locks.delete(id)
          }))
        )
      })

    const insertParents = (bucket: string, parents: ReadonlyArray<string>, now: number) =>
      Effect.forEach(parents, (p) =>
        sql`INSERT OR IGNORE INTO objects (bucket, path, parent, name, kind, ctime, mtime)
            VALUES (${bucket}, ${p}, ${parentOf(p)}, ${nameOf(p)}, 'dir', ${now}, ${now})`, { discard: true })

    const upsert = (r: ObjectRecord) =>
      sql`INSERT OR REPLACE INTO objects
          (bucket, path, parent, name, kind, blob, size, sha, biz_attr, authority, custom_headers, forbid, ctime, mtime)
          VALUES (${r.bucket}, ${r.path}, ${parentOf(r.path)}, ${nameOf(r.path)}, ${r.kind}, ${r.blob}, ${r.size},
                  ${r.sha}, ${r.bizAttr}, ${r.authority}, ${r.customHeaders}, ${r.forbid}, ${r.ctime}, ${r.mtime})`

    const blobAt = (bucket: string, path: string) =>
      Effect.map(
        sql<{ blob: string | null }>`SELECT blob FROM objects WHERE bucket = ${bucket} AND path = ${path}`,
        (rows) => rows[0]?.blob ?? null
      )

    /** Removes a blob no object references any more (after the commit that dropped the reference). */
    const collect = (blob: string | null) =>
      blob === null ? Effect.void : Effect.flatMap(
        run(sql<{ n: number }>`SELECT count(*) AS n FROM objects WHERE blob = ${blob}`),
        (rows) => (rows[0]?.n ?? 0) === 0 ? blobs.removeObject(blob) : Effect.void
      )

    const commitFile = (record: ObjectRecord, parents: ReadonlyArray<string>) =>
      Effect.flatMap(
        runW(sql.withTransaction(Effect.gen(function*() {
          const old = yield* blobAt(record.bucket, record.path)
          yield* insertParents(record.bucket, parents, record.mtime)
          yield* upsert(record)
          return old
        }))),
        (old) => old === record.blob ? Effect.void : collect(old)
      )

    const store: Store = {
      getObject: (bucket, path) =>
        run(Effect.map(
          sql<ObjectRow>`SELECT * FROM objects WHERE bucket = ${bucket} AND path = ${path}`,
          (rows) => rows[0] === undefined ? undefined : toObject(rows[0])
        )),
      listDirectory: (bucket, dir, o) => {
        const after = o.after === undefined
          ? sql``
          : o.descending
          ? sql`AND name < ${o.after}`
          : sql`AND name > ${o.after}`
        const kind = o.kind === undefined ? sql`` : sql`AND kind = ${o.kind}`
        const prefix = o.prefix === "" ? sql`` : sql`AND substr(name, 1, ${o.prefix.length}) = ${o.prefix}`
        const order = o.descending ? sql`ORDER BY name DESC` : sql`ORDER BY name ASC`
        return run(Effect.map(
          sql<ObjectRow>`SELECT * FROM objects WHERE bucket = ${bucket} AND parent = ${dir} AND path != '/'
            ${after} ${kind} ${prefix} ${order} LIMIT ${o.limit}`,
          (rows) => rows.map(toObject)
        ))
      },
      hasChildren: (bucket, dir) =>
        run(Effect.map(
          sql<{ x: number }>`SELECT 1 AS x FROM objects WHERE bucket = ${bucket} AND parent = ${dir} AND path != '/'
            UNION ALL SELECT 1 AS x FROM sessions WHERE bucket = ${bucket} AND parent = ${dir} LIMIT 1`,
          (rows) => rows.length > 0
        )),
      findFileBySha: (bucket, sha, size) =>
        run(Effect.map(
          sql<ObjectRow>`SELECT * FROM objects WHERE bucket = ${bucket} AND sha = ${sha} AND size = ${size}
            AND kind = 'file' AND blob IS NOT NULL LIMIT 1`,
          (rows) => rows[0] === undefined ? undefined : toObject(rows[0])
        )),
      putFile: (record, data, parents) =>
        Effect.zipRight(blobs.putObject(record.blob!, data), commitFile(record, parents)),
      linkFile: commitFile,
      createDirectory: (record, parents) =>
        runW(sql.withTransaction(Effect.zipRight(insertParents(record.bucket, parents, record.ctime), upsert(record)))),
      removeObject: (bucket, path) =>
        Effect.flatMap(
          runW(sql.withTransaction(Effect.gen(function*() {
            const old = yield* blobAt(bucket, path)
            yield* sql`DELETE FROM objects WHERE bucket = ${bucket} AND path = ${path}`
            return old
          }))),
          collect
        ),
      updateObject: (bucket, path, p) =>
        runW(sql`UPDATE objects SET
          biz_attr = coalesce(${p.bizAttr ?? null}, biz_attr),
          authority = coalesce(${p.authority ?? null}, authority),
          custom_headers = coalesce(${p.customHeaders ?? null}, custom_headers),
          forbid = coalesce(${p.forbid ?? null}, forbid),
          mtime = ${p.mtime}
          WHERE bucket = ${bucket} AND path = ${path}`).pipe(Effect.asVoid),
      moveFile: (bucket, from, to, now, parents) =>
        Effect.flatMap(
          runW(sql.withTransaction(Effect.gen(function*() {
            const old = yield* blobAt(bucket, to)
            yield* sql`DELETE FROM objects WHERE bucket = ${bucket} AND path = ${to}`
            yield* insertParents(bucket, parents, now)
            yield* sql`UPDATE objects SET path = ${to}, parent = ${parentOf(to)}, name = ${nameOf(to)}, mtime = ${now}
              WHERE bucket = ${bucket} AND path = ${from}`
            return old
          }))),
          collect
        ),
      getSession: (id) =>
        Effect.suspend(() => {
          if (removing.has(id)) return Effect.succeed(undefined)
          const hit = cache.get(id)
          if (hit !== undefined) return Effect.succeed(hit)
          return run(Effect.map(
            sql<SessionRow>`SELECT * FROM sessions WHERE id = ${id}`,
            (rows) => {
              if (rows[0] === undefined || removing.has(id)) return undefined
              const rec = toSession(rows[0])
              cache.set(id, rec)
              return rec
            }
          ))
        }),
      sessionAt: (bucket, path) =>
        run(Effect.map(
          sql<SessionRow>`SELECT * FROM sessions WHERE bucket = ${bucket} AND path = ${path}`,
          (rows) => rows[0] === undefined ? undefined : toSession(rows[0])
        )),
      countSessions: (bucket) =>
        run(Effect.map(
          sql<{ n: number }>`SELECT count(*) AS n FROM sessions WHERE bucket = ${bucket}`,
          (rows) => rows[0]?.n ?? 0
        )),
      hasSessionsUnder: (bucket, dir) =>
        run(Effect.map(
          sql<{ x: number }>`SELECT 1 AS x FROM sessions WHERE bucket = ${bucket}
            AND substr(path, 1, ${dir.length}) = ${dir} LIMIT 1`,
          (rows) => rows.length > 0
        )),
      createSession: (s) =>
        Effect.zipRight(
          blobs.createSession(s.id, s.filesize),
          runW(sql`INSERT INTO sessions
            (id, bucket, path, parent, filesize, slice_size, sha, uploadparts, biz_attr, insert_only, ctime, expires)
            VALUES (${s.id}, ${s.bucket}, ${s.path}, ${parentOf(s.path)}, ${s.filesize}, ${s.sliceSize}, ${s.sha},
              ${s.uploadParts}, ${s.bizAttr}, ${s.insertOnly ? 1 : 0}, ${s.ctime}, ${s.expires})`).pipe(
            // e.g. a concurrent init for the same path won the UNIQUE (bucket, path): drop our file
            Effect.tapError(() => Effect.ignore(blobs.removeSession(s.id)))
          )
        ).pipe(
          Effect.tap(() => {
            cache.set(s.id, s)
            hasher.begin(s.id)
          }),
          Effect.asVoid
        ),
      writeSlice: (s, offset, data, expires, refreshAfterSeconds) =>
        withLock(
          s.id,
          1,
          Effect.gen(function*() {
            // finish/discard hold the session exclusively and drop it from the cache
            const live = cache.get(s.id)
            if (live === undefined) return false
            yield* blobs.writeSlice(s.id, offset, data)
            yield* runW(sql.unsafe(insertSlice, [s.id, offset, data.length]))
            if (expires - live.expires >= refreshAfterSeconds) {
              yield* run(sql`UPDATE sessions SET expires = max(expires, ${expires}) WHERE id = ${s.id}`)
              cache.set(s.id, { ...live, expires })
            }
            return true
          })
        ),
      slicesOf: (id) =>
        run(sql<{ offset: number; datalen: number }>`SELECT offset, datalen FROM slices WHERE session = ${id}
          ORDER BY offset`),
      readSession: (s, onChunk) => blobs.readSession(s.id, 0, s.filesize, onChunk),
      sliceStored: (s, offset, data, retain, sha1Make) => hasher.stored(s, offset, data, retain, sha1Make),
      hashBacklogBelow: hasher.backlogBelow,
      hashSession: (s, sha1Make) =>
        hasher.finish(s, sha1Make, (from, onChunk) => blobs.readSession(s.id, from, s.filesize, onChunk)),
      exclusive: (id, effect) => withLock(id, permits, effect),
      finishSession: (s, record, parents) =>
        removal(
          s.id,
          Effect.gen(function*() {
            dropHash(s.id)
            yield* blobs.promote(s.id)
            const old = yield* runW(sql.withTransaction(Effect.gen(function*() {
              const old = yield* blobAt(record.bucket, record.path)
              yield* insertParents(record.bucket, parents, record.mtime)
              yield* upsert(record)
              yield* sql`DELETE FROM slices WHERE session = ${s.id}`
              yield* sql`DELETE FROM sessions WHERE id = ${s.id}`
              return old
            })))
            if (old !== record.blob) yield* collect(old)
          })
        ),
      discardSession: (id) =>
        removal(
          id,
          Effect.zipRight(
            Effect.sync(() => dropHash(id)),
            Effect.zipRight(
              runW(sql.withTransaction(Effect.zipRight(
                sql`DELETE FROM slices WHERE session = ${id}`,
                sql`DELETE FROM sessions WHERE id = ${id}`
              ))),
              blobs.removeSession(id)
            )
          )
        ),
      sweepExpired: (now) =>
        Effect.gen(function*() {
          const expired = yield* run(sql<{ id: string }>`SELECT id FROM sessions WHERE expires <= ${now}`)
          for (const { id } of expired) {
            yield* withLock(id, permits, store.discardSession(id))
          }
          yield* run(sql`DELETE FROM replay WHERE expires <= ${now}`)
          return expired.length
        }),
      rememberSignature: (key, expires, now) =>
        runW(sql.withTransaction(Effect.gen(function*() {
          const rows = yield* sql<{ expires: number }>`SELECT expires FROM replay WHERE key = ${key}`
          if (rows[0] !== undefined && rows[0].expires > now) return false
          yield* sql`INSERT OR REPLACE INTO replay (key, expires) VALUES (${key}, ${expires})`
          return true
        }))),
      readObject: (blob) => blobs.readObject(blob),
      newId: () => crypto.randomUUID()
    }
    return store
  })
