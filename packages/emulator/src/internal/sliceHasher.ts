/**
 * Incremental SHA-1 of unfinished uploads: each session keeps a running hash over the contiguous prefix of its
 * acknowledged slices, fed from the request buffers the slices arrived in (no read-back), so that finish only
 * hashes what is left. Slices that arrive ahead of the prefix keep their (pooled) request buffer until the prefix
 * reaches them, up to a bound (32 per session, 64 MiB in all); past it the session stops hashing ahead and finish
 * reads the rest from the file.
 * A re-sent slice that overlaps what was hashed or held (its bytes may differ), a restart of the emulator (the
 * state lives in memory only) or an expired/discarded session fall back to hashing the whole file at finish.
 *
 * Where the hashing runs: when the `Sha1` service's hashers have `updateAsync` (the native one of
 * `@cos-v4/native`), slices are hashed on the addon's hashing thread, one slice of a session at a time in file
 * order, so the request path (parsing, writing, answering) never waits for SHA-1; finish waits for the session's
 * last job, and answers wait while a session's backlog is long (`backlogBelow`). Without it, node:crypto hashes on
 * the main thread right after the slice's answer is sent. With `uploadparts` (more than one part) the running hash
 * is core's `UploadPartsBuilder` over the service (off the thread too for slices within one part): it records the
 * chaining states at the parts' granularity as it crosses each boundary.
 *
 * @internal
 */
import * as Sha1 from "@cos-v4/core/Sha1"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as crypto from "node:crypto"

/** A running hash: node:crypto for a plain `sha`, the parts builder when `uploadparts` states must be checked. */
type Running =
  | { readonly _tag: "Plain"; readonly hash: crypto.Hash }
  | { readonly _tag: "Async"; readonly hasher: Sha1.Sha1Hasher; readonly updateAsync: Sha1UpdateAsync }
  | { readonly _tag: "Parts"; readonly builder: Sha1.UploadPartsBuilder; readonly async: boolean }

type Sha1UpdateAsync = NonNullable<Sha1.Sha1Hasher["updateAsync"]>

interface Held {
  readonly data: Uint8Array
  readonly release: () => void
}

interface Progress {
  readonly running: Running
  /** Bytes hashed: the prefix [0, hashed) of the file. */
  hashed: number
  /** Acknowledged slices beyond the prefix, by offset, with their request buffers. */
  readonly held: Map<number, Held>
  /** Too many slices were ahead of the prefix: hashing stopped at `hashed`; finish reads the rest. */
  stalled: boolean
  /** A re-send overlapped hashed or held bytes: the running hash is unusable; finish hashes the whole file. */
  invalid: boolean
  /** The hashing thread is hashing the slice just before `hashed` (off-thread modes only). */
  busy: boolean
  /** Waiting for the backlog to shrink below their bound: answers (`backlogBelow`) and finish (below 1). */
  readonly waiting: Array<{ readonly below: number; readonly resume: () => void }>
}

/** The outcome of the incremental hashing, for finish. */
export interface Result {
  readonly sha: string
  /** The parts recomputed at the declared granularity (only with more than one declared part). */
  readonly parts: Array<Sha1.UploadPart> | undefined
}

/** What the hasher needs of a session. */
export interface Session {
  readonly id: string
  readonly uploadParts: string | null
}

/** @internal */
export interface SliceHasher {
  /** A new session (created in this process): its slices are hashed as they arrive. */
  readonly begin: (id: string) => void
  /** Records an acknowledged slice; `retain` keeps its request buffer alive until the returned function runs. */
  readonly stored: (
    session: Session,
    offset: number,
    data: Uint8Array,
    retain: () => () => void,
    sha1Make: () => Sha1.Sha1Hasher
  ) => void
  /**
   * Finishes the session's hash: `readRest(from, onChunk)` must feed the file's bytes from `from` to its end, in
   * order (`from` is 0 without usable state: restart, re-sent slices). Drops the session's state. `undefined` when
   * the declared `uploadparts` granularity is not usable.
   */
  readonly finish: <E>(
    session: Session & { readonly filesize: number },
    sha1Make: () => Sha1.Sha1Hasher,
    readRest: (from: number, onChunk: (chunk: Uint8Array) => void) => Effect.Effect<void, E>
  ) => Effect.Effect<Result | undefined, E>
  /** Drops the session's state (discarded, expired). */
  readonly drop: (id: string) => void
  /**
   * Completes once fewer than `below` slices of the session wait for the hashing thread (the one being hashed and
   * the held ones that continue it; slices held behind a gap do not count, so this never waits for a request that
   * has not arrived). A slice's answer waits here: when the machine has no spare core for hashing, clients are
   * slowed down instead of the backlog (and its buffers) growing until finish has to read the file back.
   */
  readonly backlogBelow: (id: string, below: number) => Effect.Effect<void>
}

/** Out-of-order slices kept per session (their buffers) before hashing ahead stops. */
const maxHeld = 32
/** Bytes of out-of-order slices kept over all sessions, beyond which a session stops hashing ahead. */
const maxHeldBytes = 64 << 20

const declaredParts = (uploadParts: string | null): ReadonlyArray<Sha1.UploadPart> | undefined =>
  uploadParts === null ? undefined : JSON.parse(uploadParts)

const newRunning = (uploadParts: string | null, sha1Make: () => Sha1.Sha1Hasher): Running | undefined => {
  const declared = declaredParts(uploadParts)
  if (declared !== undefined && declared.length > 1) {
    const made = Sha1.uploadPartsBuilder(declared[0]!.datalen, sha1Make)
    // the builder hashes on the thread when the service's hashers can (slices within one part each)
    const async = sha1Make().updateAsync !== undefined
    return Either.isLeft(made) ? undefined : { _tag: "Parts", builder: made.right, async }
  }
  const hasher = sha1Make()
  return hasher.updateAsync !== undefined
    ? { _tag: "Async", hasher, updateAsync: hasher.updateAsync.bind(hasher) }
    : { _tag: "Plain", hash: crypto.createHash("sha1") }
}

const update = (r: Running, data: Uint8Array) => {
  if (r._tag === "Plain") r.hash.update(data)
  else if (r._tag === "Async") r.hasher.update(data)
  else r.builder.update(data)
}

/** Whether slices go to the hashing thread (one at a time per session) rather than being hashed at once. */
const offThread = (r: Running): r is Exclude<Running, { _tag: "Plain" }> =>
  r._tag === "Async" || (r._tag === "Parts" && r.async)

const updateAsync = (r: Exclude<Running, { _tag: "Plain" }>, data: Uint8Array, done: () => void) => {
  if (r._tag === "Async") r.updateAsync(data, done)
  else r.builder.updateAsync(data, done)
}

const digest = (r: Running): Result => {
  if (r._tag === "Plain") return { sha: r.hash.digest("hex"), parts: undefined }
  if (r._tag === "Async") return { sha: r.hasher.digest(), parts: undefined }
  const parts = r.builder.finish()
  return { sha: parts[parts.length - 1]?.datasha ?? r.builder.sha(), parts }
}

/** @internal */
export const make = (): SliceHasher => {
  const sessions = new Map<string, Progress>()
  let heldBytes = 0

  const releaseAll = (p: Progress) => {
    for (const h of p.held.values()) {
      heldBytes -= h.data.length
      h.release()
    }
    p.held.clear()
  }

  /** The session's state is gone (dropped, finished): nothing is left to wait for. */
  const forget = (p: Progress) => {
    releaseAll(p)
    for (const w of p.waiting.splice(0)) w.resume()
  }

  /**
   * Feeds the held slices that continue the prefix: on the hashing thread one at a time (unless `inline`),
   * otherwise at once on this thread.
   */
  const advance = (p: Progress, inline: boolean) => {
    while (!p.busy) {
      const next = p.held.get(p.hashed)
      if (next === undefined) return
      p.held.delete(p.hashed)
      heldBytes -= next.data.length
      if (offThread(p.running) && !inline) return submit(p, p.running, next.data, next.release)
      update(p.running, next.data)
      p.hashed += next.data.length
      next.release()
    }
  }

  /** The slice being hashed and the held slices that continue it. */
  const backlog = (p: Progress): number => {
    if (!p.busy) return 0
    let n = 1
    for (let at = p.hashed; p.held.has(at); n++) at += p.held.get(at)!.data.length
    return n
  }

  const wake = (p: Progress) => {
    if (p.waiting.length === 0) return
    const n = backlog(p)
    for (let i = p.waiting.length - 1; i >= 0; i--) {
      const w = p.waiting[i]!
      if (n < w.below) {
        p.waiting.splice(i, 1)
        w.resume()
      }
    }
  }

  const backlogBelow = (id: string, below: number): Effect.Effect<void> =>
    Effect.async<void>((resume) => {
      const p = sessions.get(id)
      if (p === undefined || backlog(p) < below) return resume(Effect.void)
      p.waiting.push({ below, resume: () => resume(Effect.void) })
    })

  /** Hashes `data` (the bytes at `hashed`) on the hashing thread; `release` frees its buffer once hashed. */
  const submit = (
    p: Progress,
    running: Exclude<Running, { _tag: "Plain" }>,
    data: Uint8Array,
    release: () => void
  ) => {
    p.busy = true
    p.hashed += data.length
    updateAsync(running, data, () => {
      p.busy = false
      release()
      if (!p.invalid) advance(p, false)
      wake(p)
    })
  }

  // sessions begun in this process that have no slice yet
  const fresh = new Set<string>()

  const drop = (id: string) => {
    fresh.delete(id)
    const p = sessions.get(id)
    if (p === undefined) return
    sessions.delete(id)
    forget(p)
  }

  const stored: SliceHasher["stored"] = (session, offset, data, retain, sha1Make) => {
    try {
      feed(session, offset, data, retain, sha1Make)
    } catch {
      // never fail the request path over the running hash: finish hashes the whole file instead
      drop(session.id)
    }
  }

  const feed: SliceHasher["stored"] = (session, offset, data, retain, sha1Make) => {
    let p = sessions.get(session.id)
    if (p === undefined) {
      // only a session begun in this process is hashed incrementally (after a restart finish hashes the file)
      if (!fresh.delete(session.id)) return
      const running = newRunning(session.uploadParts, sha1Make)
      if (running === undefined) return
      p = { running, hashed: 0, held: new Map(), stalled: false, invalid: false, busy: false, waiting: [] }
      sessions.set(session.id, p)
    }
    if (p.invalid) return
    if (offset < p.hashed || p.held.has(offset)) {
      // a re-send over bytes already hashed or held: its content may differ; finish hashes the file instead
      p.invalid = true
      releaseAll(p)
      return
    }
    if (p.stalled) return
    if (offset === p.hashed && !p.busy) {
      if (offThread(p.running)) return submit(p, p.running, data, retain())
      update(p.running, data)
      p.hashed += data.length
      advance(p, false)
      return
    }
    if (p.held.size >= maxHeld || heldBytes + data.length > maxHeldBytes) {
      p.stalled = true
      releaseAll(p)
      return
    }
    heldBytes += data.length
    p.held.set(offset, { data, release: retain() })
  }

  const finish = <E>(
    session: Session & { readonly filesize: number },
    sha1Make: () => Sha1.Sha1Hasher,
    readRest: (from: number, onChunk: (chunk: Uint8Array) => void) => Effect.Effect<void, E>
  ): Effect.Effect<Result | undefined, E> =>
    // the session's job on the hashing thread (if any) must be done before its state is read
    Effect.flatMap(backlogBelow(session.id, 1), () => finishIdle(session, sha1Make, readRest))

  const finishIdle = <E>(
    session: Session & { readonly filesize: number },
    sha1Make: () => Sha1.Sha1Hasher,
    readRest: (from: number, onChunk: (chunk: Uint8Array) => void) => Effect.Effect<void, E>
  ): Effect.Effect<Result | undefined, E> =>
    Effect.suspend((): Effect.Effect<Result | undefined, E> => {
      const p = sessions.get(session.id)
      sessions.delete(session.id)
      fresh.delete(session.id)
      let running: Running | undefined
      let from = 0
      if (p !== undefined) {
        if (!p.invalid) {
          advance(p, true)
          running = p.running
          from = p.hashed
        }
        forget(p)
      }
      // a session without usable state is hashed from its start
      running ??= newRunning(session.uploadParts, sha1Make)
      if (running === undefined) return Effect.succeed(undefined)
      const r = running
      return Effect.map(readRest(from, (chunk) => update(r, chunk)), () => digest(r))
    })

  return { begin: (id) => void fresh.add(id), stored, finish, drop, backlogBelow }
}
