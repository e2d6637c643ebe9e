/**
 * The running SHA-1 of a session (internal/sliceHasher.ts): finish only reads back what the running hash has not
 * covered, whatever the order of the slices; re-sends and restarts fall back to the whole file.
 */
import * as Sha1 from "@cos-v4/core/Sha1"
import * as NativeSha1 from "@cos-v4/native/NativeSha1"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as crypto from "node:crypto"
import * as SliceHasher from "../src/internal/sliceHasher.js"

const slice = 4096
const file = crypto.randomBytes(10 * slice + 100)
const offsets = Array.from({ length: 11 }, (_, k) => k * slice)
const sliceAt = (off: number) => file.subarray(off, off + slice)
const sha = crypto.createHash("sha1").update(file).digest("hex")

// the pure SHA-1 (node:crypto on the main thread for a plain sha) and the native one (jobs on its hashing thread)
const nativeMake = Either.getOrThrow(NativeSha1.native()).make
const implementations = [["pure", Sha1.make], ["native, updateAsync", nativeMake]] as const

/** Feeds `order` and finishes; returns the result, where finish started reading, and the buffers still held. */
const runWith = (make: () => Sha1.Sha1Hasher) =>
(
  order: ReadonlyArray<number>,
  options: { begin?: boolean; uploadParts?: string | null; bytesAt?: (off: number, k: number) => Buffer } = {}
) =>
  Effect.gen(function*() {
    const hasher = SliceHasher.make()
    const session = { id: "s", uploadParts: options.uploadParts ?? null, filesize: file.length }
    if (options.begin !== false) hasher.begin(session.id)
    let held = 0
    const retain = () => {
      held++
      return () => void held--
    }
    order.forEach((off, k) => hasher.stored(session, off, options.bytesAt?.(off, k) ?? sliceAt(off), retain, make))
    const reads: Array<number> = []
    const result = yield* hasher.finish(session, make, (from, onChunk) =>
      Effect.sync(() => {
        reads.push(from)
        if (from < file.length) onChunk(file.subarray(from))
      }))
    return { result, from: reads[0], held }
  })

describe.each(implementations)("SliceHasher (%s)", (_, make) => {
  const run = runWith(make)

  it.effect("in order and out of order: finish reads nothing back, no buffer stays held", () =>
    Effect.gen(function*() {
      const inOrder = yield* run(offsets)
      assert.strictEqual(inOrder.result?.sha, sha)
      assert.strictEqual(inOrder.from, file.length)
      // the second slice first, then a reversed run: held until the prefix reaches them
      const scrambled = [slice, 0, 5 * slice, 4 * slice, 3 * slice, 2 * slice, ...offsets.slice(6)]
      const out = yield* run(scrambled)
      assert.strictEqual(out.result?.sha, sha)
      assert.strictEqual(out.from, file.length)
      assert.strictEqual(out.held, 0)
    }))

  it.effect("a gap: finish continues from the prefix; a session not begun here hashes the whole file", () =>
    Effect.gen(function*() {
      const gap = yield* run(offsets.filter((o) => o !== 3 * slice))
      assert.strictEqual(gap.result?.sha, sha)
      assert.strictEqual(gap.from, 3 * slice)
      assert.strictEqual(gap.held, 0)
      const restarted = yield* run(offsets, { begin: false })
      assert.strictEqual(restarted.result?.sha, sha)
      assert.strictEqual(restarted.from, 0)
    }))

  it.effect("a re-send over hashed bytes invalidates the running hash", () =>
    Effect.gen(function*() {
      const wrong = Buffer.alloc(slice, 9)
      // slice 0 first with wrong bytes, then everything right: the stored file is right, so is the sha
      const r = yield* run([0, ...offsets], { bytesAt: (off, k) => (k === 0 ? wrong : sliceAt(off)) })
      assert.strictEqual(r.from, 0)
      assert.strictEqual(r.result?.sha, sha)
    }))

  it.effect("uploadparts: the chaining states at the parts' granularity, slices out of order", () =>
    Effect.gen(function*() {
      const parts = Either.getOrThrow(Sha1.uploadParts(file, 2 * slice))
      const r = yield* run([slice, 0, ...offsets.slice(2).reverse()], { uploadParts: JSON.stringify(parts) })
      assert.deepStrictEqual(r.result?.parts, parts)
      assert.strictEqual(r.result?.sha, sha)
      assert.strictEqual(r.from, file.length)
    }))
})

describe("SliceHasher backlog (native, hashing thread)", () => {
  it.effect("backlogBelow waits for the contiguous queue to drain; slices behind a gap never hold it", () =>
    Effect.gen(function*() {
      const hasher = SliceHasher.make()
      const session = { id: "b", uploadParts: null, filesize: file.length }
      hasher.begin(session.id)
      const retain = () => () => {}
      // behind a gap only: nothing is queued for the thread, so nothing to wait for
      hasher.stored(session, 2 * slice, sliceAt(2 * slice), retain, nativeMake)
      hasher.stored(session, 3 * slice, sliceAt(3 * slice), retain, nativeMake)
      yield* hasher.backlogBelow(session.id, 1)
      // slice 0 goes to the thread, 1 continues it, 2 and 3 follow: a backlog of 4 that drains by itself
      hasher.stored(session, 0, sliceAt(0), retain, nativeMake)
      hasher.stored(session, slice, sliceAt(slice), retain, nativeMake)
      yield* hasher.backlogBelow(session.id, 1)
      for (const off of offsets.slice(4)) hasher.stored(session, off, sliceAt(off), retain, nativeMake)
      yield* hasher.backlogBelow(session.id, 1)
      const reads: Array<number> = []
      const result = yield* hasher.finish(session, nativeMake, (from) => Effect.sync(() => void reads.push(from)))
      assert.strictEqual(result?.sha, sha)
      assert.deepStrictEqual(reads, [file.length])
      // an unknown session never waits
      yield* hasher.backlogBelow("nope", 1)
    }))
})
