/**
 * Incremental SHA-1 of unfinished uploads: each session keeps a running hash over the contiguous prefix of its
 * acknowledged slices, fed from the request buffers the slices arrived in (no read-back), so that finish only
 * hashes what is left. Slices that arrive ahead of the prefix keep their (pooled) request buffer until the prefix
 * reaches them, up to a bound (16 per session, 64 MiB in all); past it the session stops hashing ahead and finish
 * reads the rest from the file.
 * A re-sent slice that overlaps what was hashed or held (its bytes may differ), a restart of the emulator (the
 * state lives in memory only) or an expired/discarded session fall back to hashing the whole file at finish.
 *
 * With `uploadparts` (more than one part), the running hash is core's `UploadPartsBuilder` over the provided `Sha1`
 * service: it records the chaining states at the parts' granularity as it crosses each boundary. Otherwise it is
 * node:crypto. Hashing runs on the main thread, right after the slice's answer is sent: a worker thread measured
 * worse on this 2-vCPU VM (the hand-over costs more CPU than it hides latency when the machine is busy).
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
  | { readonly _tag: "Parts"; readonly builder: Sha1.UploadPartsBuilder }

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
}

/** Out-of-order slices kept per session (their buffers) before hashing ahead stops. */
const maxHeld = 16
/** Bytes of out-of-order slices kept over all sessions, beyond which a session stops hashing ahead. */
const maxHeldBytes = 64 << 20

const declaredParts = (uploadParts: string | null): ReadonlyArray<Sha1.UploadPart> | undefined =>
  uploadParts === null ? undefined : JSON.parse(uploadParts)

const newRunning = (uploadParts: string | null, sha1Make: () => Sha1.Sha1Hasher): Running | undefined => {
  const declared = declaredParts(uploadParts)
  if (declared !== undefined && declared.length > 1) {
    const made = Sha1.uploadPartsBuilder(declared[0]!.datalen, sha1Make)
    return Either.isLeft(made) ? undefined : { _tag: "Parts", builder: made.right }
  }
  return { _tag: "Plain", hash: crypto.createHash("sha1") }
}

const update = (r: Running, data: Uint8Array) => {
  if (r._tag === "Plain") r.hash.update(data)
  else r.builder.update(data)
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

  /** Feeds held slices that continue the prefix. */
  const advance = (p: Progress) => {
    for (;;) {
      const next = p.held.get(p.hashed)
      if (next === undefined) return
      p.held.delete(p.hashed)
      heldBytes -= next.data.length
      update(p.running, next.data)
      p.hashed += next.data.length
      next.release()
    }
  }

  // sessions begun in this process that have no slice yet
  const fresh = new Set<string>()

  const drop = (id: string) => {
    fresh.delete(id)
    const p = sessions.get(id)
    if (p === undefined) return
    sessions.delete(id)
    releaseAll(p)
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
      p = { running, hashed: 0, held: new Map(), stalled: false, invalid: false }
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
    if (offset === p.hashed) {
      update(p.running, data)
      p.hashed += data.length
      advance(p)
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
    Effect.suspend((): Effect.Effect<Result | undefined, E> => {
      const p = sessions.get(session.id)
      sessions.delete(session.id)
      fresh.delete(session.id)
      let running: Running | undefined
      let from = 0
      if (p !== undefined) {
        if (!p.invalid) {
          advance(p)
          running = p.running
          from = p.hashed
        }
        releaseAll(p)
      }
      // a session without usable state is hashed from its start
      running ??= newRunning(session.uploadParts, sha1Make)
      if (running === undefined) return Effect.succeed(undefined)
      const r = running
      return Effect.map(readRest(from, (chunk) => update(r, chunk)), (): Result => {
        if (r._tag === "Plain") return { sha: r.hash.digest("hex"), parts: undefined }
        const parts = r.builder.finish()
        return { sha: parts[parts.length - 1]?.datasha ?? r.builder.sha(), parts }
      })
    })

  return { begin: (id) => void fresh.add(id), stored, finish, drop }
}
