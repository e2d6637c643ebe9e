import * as Sha1 from "@cos-v4/core/Sha1"
import * as NativeSha1 from "@cos-v4/native/NativeSha1"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as internal from "../src/internal/nativeSha1.js"

const MiB = 1048576

const file = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = i % 251
  return bytes
}

const nodeSha1 = (bytes: Uint8Array): string => crypto.createHash("sha1").update(bytes).digest("hex")

/** `bytes` cut at the given points (mod its length + 1), in order, as subarrays. */
const pieces = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1))), bytes.length].sort((a, b) => a - b)
  return points.map((end, k) => bytes.subarray(k === 0 ? 0 : points[k - 1], end))
}

/** Runs a callback-style `updateAsync` as an Effect. */
const awaitDone = (start: (done: () => void) => void) =>
  Effect.async<void>((resume) => start(() => resume(Effect.void)))

/** Runs a callback-style `updateFileAsync` as an Effect. */
const awaitFile = (start: (done: (result: Sha1.FileUpdate) => void) => void) =>
  Effect.async<Sha1.FileUpdate>((resume) => start((result) => resume(Effect.succeed(result))))

/** `bytes` written to a fresh temp file, open for reading; closed and removed with the scope. */
const tempFile = (bytes: Uint8Array) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cos-v4-native-"))
      fs.writeFileSync(path.join(dir, "f"), bytes)
      return { dir, fd: fs.openSync(path.join(dir, "f"), "r") }
    }),
    ({ dir, fd }) =>
      Effect.sync(() => {
        fs.closeSync(fd)
        fs.rmSync(dir, { recursive: true, force: true })
      })
  )

// The addon is built by `pnpm install` (packages/native/addon/build.mjs); CI has a compiler, so a missing addon
// is a build failure we want to see, not a silent fallback.
const loaded = NativeSha1.native()
const native: Sha1.Sha1.Service = Either.getOrElse(loaded, () => Sha1.pure)

describe("NativeSha1", () => {
  it("the native addon is built and loads", () => {
    assert.isTrue(Either.isRight(loaded), Either.isLeft(loaded) ? loaded.left : "")
    assert.strictEqual(native.name, "openssl")
  })

  it("§3.4 vectors at 1 MiB and 512 KiB granularity", () => {
    const bytes = file(2 * MiB + 1000)
    const at1M = Either.getOrThrow(Sha1.uploadParts(bytes, MiB, native.make))
    assert.deepStrictEqual(at1M, [
      { offset: 0, datalen: MiB, datasha: "463935c7eea4ca2705d0f481ecedb31f4d0f3a96" },
      { offset: MiB, datalen: MiB, datasha: "657c72d675f1e792607e5c0a7405f66cbdb8c290" },
      { offset: 2 * MiB, datalen: 1000, datasha: "0e0aacd66ad44901df7d1a40d82ee63f4512b822" }
    ])
    const at512K = Either.getOrThrow(Sha1.uploadParts(bytes, 512 * 1024, native.make))
    assert.deepStrictEqual(at512K.map((p) => p.datasha), [
      "c06e92e6fd857cbc15287b711af2cf4128ccee65",
      "463935c7eea4ca2705d0f481ecedb31f4d0f3a96",
      "4f90ea058b31d241b2e735e604c61ecd4f60cae6",
      "657c72d675f1e792607e5c0a7405f66cbdb8c290",
      "0e0aacd66ad44901df7d1a40d82ee63f4512b822"
    ])
  })

  it("§13.3 vector and the state after 64 zero bytes", () => {
    const result = Either.getOrThrow(Sha1.uploadParts(file(3158073), MiB, native.make))
    assert.deepStrictEqual(result.map((p) => p.datasha), [
      "463935c7eea4ca2705d0f481ecedb31f4d0f3a96",
      "657c72d675f1e792607e5c0a7405f66cbdb8c290",
      "c72cf079ae1aabdb935eddd8e951cd85c572042d",
      "25ad34db1427caefe4c6b84d5a0bb4b0c7134ea1"
    ])
    const hasher = native.make()
    hasher.update(new Uint8Array(64))
    assert.strictEqual(hasher.state(), "e504b492ed8c58564ecd1a6c683f05bf933af709")
  })

  it("digest does not finalise, clone is independent", () => {
    const bytes = file(10_000)
    const hasher = native.make()
    hasher.update(bytes.subarray(0, 1000))
    const copy = hasher.clone()
    assert.strictEqual(hasher.digest(), nodeSha1(bytes.subarray(0, 1000)))
    hasher.update(bytes.subarray(1000))
    assert.strictEqual(hasher.digest(), nodeSha1(bytes))
    assert.strictEqual(Buffer.from(hasher.digestBytes()).toString("hex"), nodeSha1(bytes))
    assert.strictEqual(copy.byteLength, 1000)
    assert.strictEqual(copy.digest(), nodeSha1(bytes.subarray(0, 1000)))
  })

  it.prop(
    "native equals pure (state, digest, byteLength, exported state) on random data in random chunks",
    [FastCheck.uint8Array({ maxLength: 3000 }), FastCheck.array(FastCheck.nat(), { maxLength: 10 })],
    ([bytes, cuts]) => {
      const n = native.make()
      const p = Sha1.make()
      for (const piece of pieces(bytes, cuts)) {
        n.update(piece)
        p.update(piece)
        assert.strictEqual(n.state(), p.state())
        assert.strictEqual(n.byteLength, p.byteLength)
        assert.deepStrictEqual(n.exportState(), p.exportState())
      }
      assert.strictEqual(n.digest(), nodeSha1(bytes))
      assert.strictEqual(p.digest(), nodeSha1(bytes))
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "states move between implementations: export from one, resume in the other",
    [FastCheck.uint8Array({ maxLength: 2000 }), FastCheck.nat()],
    ([bytes, cut]) => {
      const at = cut % (bytes.length + 1)
      for (const [from, to] of [[native, Sha1.pure], [Sha1.pure, native]] as const) {
        const first = from.make()
        first.update(bytes.subarray(0, at))
        const resumed = Option.getOrThrow(to.fromState(first.exportState()))
        assert.strictEqual(resumed.byteLength, at)
        assert.deepStrictEqual(resumed.exportState(), first.exportState())
        resumed.update(bytes.subarray(at))
        assert.strictEqual(resumed.digest(), nodeSha1(bytes))
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.effect.prop(
    "updateAsync (on the hashing thread) mixed with update gives node:crypto's digest; hashers run side by side",
    [FastCheck.uint8Array({ maxLength: 300_000 }), FastCheck.array(FastCheck.nat(), { maxLength: 12 })],
    ([bytes, cuts]) =>
      Effect.gen(function*() {
        const feed = (hasher: Sha1.Sha1Hasher, asyncFirst: boolean) =>
          Effect.gen(function*() {
            let useAsync = asyncFirst
            for (const piece of pieces(bytes, cuts)) {
              if (useAsync) {
                assert.isDefined(hasher.updateAsync)
                yield* awaitDone((done) => hasher.updateAsync!(piece, done))
              } else hasher.update(piece)
              useAsync = !useAsync
            }
            return hasher
          })
        const [a, b] = yield* Effect.all([feed(native.make(), true), feed(native.make(), false)], {
          concurrency: 2
        })
        assert.strictEqual(a.digest(), nodeSha1(bytes))
        assert.strictEqual(b.digest(), nodeSha1(bytes))
        assert.strictEqual(a.byteLength, bytes.length)
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect.prop(
    "uploadparts builder: updateAsync (hashing thread within a part, at once across boundaries) equals update",
    [
      FastCheck.uint8Array({ minLength: 1, maxLength: 20_000 }),
      FastCheck.array(FastCheck.nat(), { maxLength: 12 }),
      FastCheck.integer({ min: 1, max: 40 })
    ],
    ([bytes, cuts, blocks]) =>
      Effect.gen(function*() {
        const granularity = blocks * 64
        const builder = Either.getOrThrow(Sha1.uploadPartsBuilder(granularity, native.make))
        for (const piece of pieces(bytes, cuts)) yield* awaitDone((done) => builder.updateAsync(piece, done))
        // exactly one part per call also goes through the hashing thread
        const aligned = Either.getOrThrow(Sha1.uploadPartsBuilder(granularity, native.make))
        for (let at = 0; at < bytes.length; at += granularity) {
          const piece = bytes.subarray(at, at + granularity)
          yield* awaitDone((done) => aligned.updateAsync(piece, done))
        }
        const expected = Either.getOrThrow(Sha1.uploadParts(bytes, granularity))
        assert.deepStrictEqual(builder.finish(), expected)
        assert.deepStrictEqual(aligned.finish(), expected)
        assert.strictEqual(aligned.sha(), nodeSha1(bytes))
      }),
    { fastCheck: { numRuns: 100 } }
  )

  it.scoped.prop(
    "updateFileAsync: ranges of a file (read ahead by a reader thread, or into the caller's buffer) give node:crypto's digest and the states at each boundary",
    [
      FastCheck.integer({ min: 0, max: 700_000 }),
      FastCheck.array(FastCheck.nat(), { maxLength: 6 }),
      FastCheck.integer({ min: 1, max: 3000 })
    ],
    ([size, cuts, blocks]) =>
      Effect.gen(function*() {
        // sizes drawn directly (arbitrary arrays are mostly tiny): most runs cross many boundaries
        const bytes = file(size)
        const { fd } = yield* tempFile(bytes)
        const boundary = blocks * 64
        const hasher = native.make()
        const reference = Sha1.make()
        const states: Array<string> = []
        const expected: Array<string> = []
        let k = 0
        for (const piece of pieces(bytes, cuts)) {
          const position = hasher.byteLength
          // every other range is read into a buffer of the caller's (one thread reads and hashes), the others by
          // the job's reader thread
          const into = k++ % 2 === 0 ? new Uint8Array(piece.length + 3).fill(7) : undefined
          const result = yield* awaitFile((done) =>
            hasher.updateFileAsync!({ fd, position, length: piece.length, into }, boundary, done)
          )
          assert.deepStrictEqual([result.bytesRead, result.errno], [piece.length, 0])
          if (into !== undefined) {
            assert.deepStrictEqual(into.subarray(0, piece.length), piece)
            assert.deepStrictEqual([...into.subarray(piece.length)], [7, 7, 7])
          }
          states.push(...result.states)
          // the reference: byte by byte up to each boundary
          for (let at = position; at < position + piece.length;) {
            const end = Math.min(position + piece.length, (Math.floor(at / boundary) + 1) * boundary)
            reference.update(bytes.subarray(at, end))
            if (end % boundary === 0) expected.push(reference.state())
            at = end
          }
        }
        assert.strictEqual(hasher.byteLength, bytes.length)
        assert.strictEqual(hasher.digest(), nodeSha1(bytes))
        assert.deepStrictEqual(states, expected)
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.scoped("updateFileAsync reads ahead in 1 MiB chunks: ranges of several chunks, part boundaries off the chunk ends, a file ending mid-chunk", () =>
    Effect.gen(function*() {
      const MiB = 1 << 20
      const bytes = file(5 * MiB + 4321)
      const { fd } = yield* tempFile(bytes)
      const boundary = 12_289 * 64 // 786 496 bytes: crosses the chunk ends at other offsets each time
      const hasher = native.make()
      const states: Array<string> = []
      for (const [position, length] of [[0, 3 * MiB + 100], [3 * MiB + 100, bytes.length - (3 * MiB + 100)]] as const) {
        const result = yield* awaitFile((done) => hasher.updateFileAsync!({ fd, position, length }, boundary, done))
        assert.deepStrictEqual([result.bytesRead, result.errno], [length, 0])
        states.push(...result.states)
      }
      const reference = Sha1.make()
      const expected: Array<string> = []
      for (let at = boundary; at <= bytes.length; at += boundary) {
        reference.update(bytes.subarray(at - boundary, at))
        expected.push(reference.state())
      }
      assert.strictEqual(hasher.digest(), nodeSha1(bytes))
      assert.deepStrictEqual(states, expected)
      // a range running past the end of the file: it stops there, mid-chunk
      const short = native.make()
      const from = MiB + 5
      const result = yield* awaitFile((done) =>
        short.updateFileAsync!({ fd, position: from, length: 8 * MiB }, 0, done)
      )
      assert.deepStrictEqual([result.bytesRead, result.errno], [bytes.length - from, 0])
      assert.strictEqual(short.digest(), nodeSha1(bytes.subarray(from)))
    }))

  it.scoped("updateFileAsync: a file shorter than the range stops at its end; a bad descriptor reports its errno", () =>
    Effect.gen(function*() {
      const bytes = file(300_000)
      const { fd } = yield* tempFile(bytes)
      const hasher = native.make()
      const short = yield* awaitFile((done) => hasher.updateFileAsync!({ fd, position: 0, length: 400_000 }, 0, done))
      assert.deepStrictEqual([short.bytesRead, short.errno, short.states.length], [300_000, 0, 0])
      assert.strictEqual(hasher.digest(), nodeSha1(bytes))
      const into = new Uint8Array(400_000)
      const again = native.make()
      const shortInto = yield* awaitFile((done) =>
        again.updateFileAsync!({ fd, position: 100_000, length: 400_000, into }, 0, done)
      )
      assert.deepStrictEqual([shortInto.bytesRead, shortInto.errno], [200_000, 0])
      assert.deepStrictEqual(into.subarray(0, 200_000), bytes.subarray(100_000))
      assert.strictEqual(again.digest(), nodeSha1(bytes.subarray(100_000)))

      const closed = fs.openSync(process.execPath, "r")
      fs.closeSync(closed)
      const bad = yield* awaitFile((done) =>
        native.make().updateFileAsync!({ fd: closed, position: 0, length: 10 }, 64, done)
      )
      assert.deepStrictEqual([bad.bytesRead, bad.errno], [0, os.constants.errno.EBADF])
    }))

  it("updateFileAsync checks its arguments", () => {
    const hasher = native.make()
    const noop = () => undefined
    assert.throws(() => hasher.updateFileAsync!({ fd: -1, position: 0, length: 1 }, 0, noop), /file descriptor/)
    assert.throws(() => hasher.updateFileAsync!({ fd: 0, position: -1, length: 1 }, 0, noop), /file descriptor/)
    assert.throws(() => hasher.updateFileAsync!({ fd: 0, position: 0, length: Number.NaN }, 0, noop), /file descriptor/)
    assert.throws(
      () => hasher.updateFileAsync!({ fd: 0, position: 0, length: 10, into: new Uint8Array(9) }, 0, noop),
      /shorter than the length/
    )
  })

  it.scoped.prop(
    "uploadparts builder: updateFileAsync over whole ranges equals update over the bytes",
    [
      FastCheck.integer({ min: 1, max: 40_000 }),
      FastCheck.array(FastCheck.nat(), { maxLength: 6 }),
      FastCheck.integer({ min: 1, max: 60 })
    ],
    ([size, cuts, blocks]) =>
      Effect.gen(function*() {
        const bytes = file(size)
        const { fd } = yield* tempFile(bytes)
        const granularity = blocks * 64
        const builder = Either.getOrThrow(Sha1.uploadPartsBuilder(granularity, native.make))
        assert.isDefined(builder.updateFileAsync)
        for (const piece of pieces(bytes, cuts)) {
          const position = builder.byteLength
          yield* awaitFile((done) => builder.updateFileAsync!({ fd, position, length: piece.length }, done))
        }
        assert.deepStrictEqual(builder.finish(), Either.getOrThrow(Sha1.uploadParts(bytes, granularity)))
        assert.strictEqual(builder.sha(), nodeSha1(bytes))
        assert.isUndefined(Either.getOrThrow(Sha1.uploadPartsBuilder(granularity)).updateFileAsync)
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it("native fromState rejects malformed states", () => {
    const hasher = native.make()
    hasher.update(file(70))
    const state = hasher.exportState()
    assert.isTrue(Option.isNone(native.fromState(state.subarray(0, 27))))
    assert.isTrue(Option.isNone(native.fromState(state.subarray(0, state.length - 1))))
  })

  it("native resumes a state beyond 4 GiB (bit count crosses 2^32)", () => {
    // 2^29 + 3 bytes: the bit count needs the high word; resume, then compare against pure resumed the same way
    const state = new Uint8Array(28 + 3)
    const view = new DataView(state.buffer)
    for (let i = 0; i < 5; i++) view.setUint32(i * 4, 0x01020304 * (i + 1), true)
    view.setUint32(20, 3, true)
    view.setUint32(24, 1, true)
    state.set([7, 8, 9], 28)
    const n = Option.getOrThrow(native.fromState(state))
    const p = Option.getOrThrow(Sha1.fromState(state))
    assert.strictEqual(n.byteLength, 4294967296 + 3)
    assert.deepStrictEqual(n.exportState(), state)
    n.update(file(100))
    p.update(file(100))
    assert.strictEqual(n.digest(), p.digest())
  })

  it.effect("layer provides the native implementation", () =>
    Effect.gen(function*() {
      const sha1 = yield* Sha1.Sha1
      assert.strictEqual(sha1.name, "openssl")
      const hasher = sha1.make()
      hasher.update(new Uint8Array(64))
      assert.strictEqual(hasher.state(), "e504b492ed8c58564ecd1a6c683f05bf933af709")
    }).pipe(Effect.provide(NativeSha1.layer)))
})

describe("NativeSha1 fallback", () => {
  it.effect("a missing addon falls back to the pure implementation, logged once at debug level", () =>
    Effect.gen(function*() {
      const missing = internal.load("./no-such-addon.node")
      assert.isTrue(Either.isLeft(missing))
      const messages: Array<unknown> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => messages.push(message)))
      const services = yield* Effect.all([internal.serviceFrom(missing), internal.serviceFrom(missing)]).pipe(
        Effect.provide(capture),
        Logger.withMinimumLogLevel(LogLevel.Debug)
      )
      assert.deepStrictEqual(services.map((s) => s.name), ["pure-ts", "pure-ts"])
      assert.strictEqual(messages.length, 1)
      assert.include(String(messages[0]), "no-such-addon.node")
    }))
})
