import * as Sha1 from "@cos-v4/core/Sha1"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as crypto from "node:crypto"

const MiB = 1048576

/** The protocol's test file: byte i = i mod 251. */
const file = (size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = i % 251
  return bytes
}

const nodeSha1 = (bytes: Uint8Array): string => crypto.createHash("sha1").update(bytes).digest("hex")

const parts = (input: Uint8Array | Iterable<Uint8Array>, granularity: number): Array<Sha1.UploadPart> =>
  Either.getOrThrow(Sha1.uploadParts(input, granularity))

/** Cuts `bytes` at the given points (mod its length), as subarrays with arbitrary byte offsets. */
const chunk = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((c) => bytes.length === 0 ? 0 : c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let start = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(start, p))
    start = p
  }
  return out
}

const file2M = file(2 * MiB + 1000)

describe("Sha1", () => {
  describe("protocol vectors", () => {
    it("§3.4 at 1 MiB granularity", () => {
      assert.deepStrictEqual(parts(file2M, MiB), [
        { offset: 0, datalen: MiB, datasha: "463935c7eea4ca2705d0f481ecedb31f4d0f3a96" },
        { offset: MiB, datalen: MiB, datasha: "657c72d675f1e792607e5c0a7405f66cbdb8c290" },
        { offset: 2 * MiB, datalen: 1000, datasha: "0e0aacd66ad44901df7d1a40d82ee63f4512b822" }
      ])
      assert.strictEqual(nodeSha1(file2M), "0e0aacd66ad44901df7d1a40d82ee63f4512b822")
    })

    it("§3.4 at 512 KiB granularity", () => {
      const result = parts(file2M, 512 * 1024)
      assert.deepStrictEqual(result.map((p) => p.datasha), [
        "c06e92e6fd857cbc15287b711af2cf4128ccee65",
        "463935c7eea4ca2705d0f481ecedb31f4d0f3a96",
        "4f90ea058b31d241b2e735e604c61ecd4f60cae6",
        "657c72d675f1e792607e5c0a7405f66cbdb8c290",
        "0e0aacd66ad44901df7d1a40d82ee63f4512b822"
      ])
      assert.deepStrictEqual(result.map((p) => [p.offset, p.datalen]), [
        [0, 524288],
        [524288, 524288],
        [1048576, 524288],
        [1572864, 524288],
        [2097152, 1000]
      ])
    })

    it("§13.3: 3,158,073 bytes at 1 MiB", () => {
      const bytes = file(3158073)
      const result = parts(bytes, MiB)
      assert.deepStrictEqual(result.map((p) => p.datasha), [
        "463935c7eea4ca2705d0f481ecedb31f4d0f3a96",
        "657c72d675f1e792607e5c0a7405f66cbdb8c290",
        "c72cf079ae1aabdb935eddd8e951cd85c572042d",
        "25ad34db1427caefe4c6b84d5a0bb4b0c7134ea1"
      ])
      assert.strictEqual(result[3]?.datalen, 3158073 - 3 * MiB)
    })

    it("state after 64 zero bytes", () => {
      const hasher = Sha1.make()
      hasher.update(new Uint8Array(64))
      assert.strictEqual(hasher.state(), "e504b492ed8c58564ecd1a6c683f05bf933af709")
      assert.strictEqual(hasher.byteLength, 64)
    })

    it("a file that ends on a boundary ends with the digest, not the state", () => {
      const bytes = file(2 * MiB)
      assert.deepStrictEqual(parts(bytes, MiB).map((p) => p.datasha), [
        "463935c7eea4ca2705d0f481ecedb31f4d0f3a96",
        nodeSha1(bytes)
      ])
      // the same when fed chunk by chunk, with the last chunk ending exactly on the boundary
      assert.deepStrictEqual(parts([bytes.subarray(0, MiB), bytes.subarray(MiB)], MiB), parts(bytes, MiB))
    })

    it("an empty file has no parts", () => {
      assert.deepStrictEqual(parts(new Uint8Array(0), MiB), [])
    })
  })

  describe("digests", () => {
    it("match node:crypto for every length 0..300 and around block edges", () => {
      const bytes = file(70_000)
      for (const n of [...Array.from({ length: 301 }, (_, i) => i), 4095, 4096, 4097, 65599, 65600, 70_000]) {
        const hasher = Sha1.make()
        hasher.update(bytes.subarray(0, n))
        const expected = nodeSha1(bytes.subarray(0, n))
        assert.strictEqual(hasher.digest(), expected, `length ${n}`)
        assert.strictEqual(Buffer.from(hasher.digestBytes()).toString("hex"), expected)
      }
    })

    it("digest does not finalise: the hasher can be fed further", () => {
      const hasher = Sha1.make()
      hasher.update(file2M.subarray(0, 1000))
      assert.strictEqual(hasher.digest(), nodeSha1(file2M.subarray(0, 1000)))
      hasher.update(file2M.subarray(1000, 5000))
      assert.strictEqual(hasher.digest(), nodeSha1(file2M.subarray(0, 5000)))
    })

    it("clone is independent of the original", () => {
      const hasher = Sha1.make()
      hasher.update(file2M.subarray(0, 100))
      const copy = hasher.clone()
      copy.update(file2M.subarray(100, 300))
      assert.strictEqual(hasher.digest(), nodeSha1(file2M.subarray(0, 100)))
      assert.strictEqual(copy.digest(), nodeSha1(file2M.subarray(0, 300)))
    })

    it.prop(
      "random data in random chunks hashes like node:crypto",
      [FastCheck.uint8Array({ maxLength: 3000 }), FastCheck.array(FastCheck.nat(), { maxLength: 12 })],
      ([bytes, cuts]) => {
        const hasher = Sha1.make()
        for (const piece of chunk(bytes, cuts)) hasher.update(piece)
        assert.strictEqual(hasher.byteLength, bytes.length)
        assert.strictEqual(hasher.digest(), nodeSha1(bytes))
      },
      { fastCheck: { numRuns: 200 } }
    )
  })

  describe("exportState / fromState", () => {
    it("the exported state starts with the LE chaining state and the byte length", () => {
      const hasher = Sha1.make()
      hasher.update(file2M.subarray(0, MiB + 5))
      const state = hasher.exportState()
      assert.strictEqual(state.length, 28 + 5)
      const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
      assert.strictEqual(view.getUint32(20, true), MiB + 5)
      assert.strictEqual(view.getUint32(24, true), 0)
      assert.deepStrictEqual(Array.from(state.subarray(28)), Array.from(file2M.subarray(MiB, MiB + 5)))
      const aligned = Sha1.make()
      aligned.update(file2M.subarray(0, MiB))
      assert.strictEqual(Buffer.from(aligned.exportState().subarray(0, 20)).toString("hex"), aligned.state())
      assert.strictEqual(aligned.state(), "463935c7eea4ca2705d0f481ecedb31f4d0f3a96")
    })

    it.prop(
      "round trip: resume from an exported state and finish like an uninterrupted hash",
      [FastCheck.uint8Array({ maxLength: 2000 }), FastCheck.nat()],
      ([bytes, cut]) => {
        const at = cut % (bytes.length + 1)
        const first = Sha1.make()
        first.update(bytes.subarray(0, at))
        const state = first.exportState()
        const resumed = Option.getOrThrow(Sha1.fromState(state))
        assert.strictEqual(resumed.byteLength, at)
        assert.deepStrictEqual(resumed.exportState(), state)
        resumed.update(bytes.subarray(at))
        assert.strictEqual(resumed.digest(), nodeSha1(bytes))
      },
      { fastCheck: { numRuns: 200 } }
    )

    it("rejects malformed states", () => {
      const hasher = Sha1.make()
      hasher.update(file2M.subarray(0, 70))
      const state = hasher.exportState()
      assert.isTrue(Option.isSome(Sha1.fromState(state)))
      assert.isTrue(Option.isNone(Sha1.fromState(state.subarray(0, 27))))
      assert.isTrue(Option.isNone(Sha1.fromState(state.subarray(0, state.length - 1))))
      assert.isTrue(Option.isNone(Sha1.fromState(new Uint8Array([...state, 0]))))
      const huge = Uint8Array.from(state)
      new DataView(huge.buffer).setUint32(24, 0xffffffff, true)
      assert.isTrue(Option.isNone(Sha1.fromState(huge)))
    })
  })

  describe("uploadparts", () => {
    it("rejects granularities that are not positive multiples of 64", () => {
      for (const g of [0, -64, 100, 64.5, Number.NaN, Infinity]) {
        const result = Sha1.uploadParts(file2M, g)
        assert.isTrue(Either.isLeft(result), `granularity ${g}`)
        if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "InvalidSliceSize")
        assert.isFalse(Sha1.isValidGranularity(g))
      }
      assert.isTrue(Sha1.isValidGranularity(64))
    })

    it.prop(
      "the builder fed random chunks agrees with per-prefix hashes",
      [
        FastCheck.uint8Array({ maxLength: 4000 }),
        FastCheck.array(FastCheck.nat(), { maxLength: 10 }),
        FastCheck.integer({ min: 1, max: 20 })
      ],
      ([bytes, cuts, blocks]) => {
        const granularity = blocks * 64
        const builder = Either.getOrThrow(Sha1.uploadPartsBuilder(granularity))
        for (const piece of chunk(bytes, cuts)) {
          builder.update(piece)
          // every part already emitted is final: it ends strictly before the bytes fed so far
          for (const part of builder.parts) assert.isTrue(part.offset + part.datalen < builder.byteLength)
        }
        const result = builder.finish()
        const expected: Array<Sha1.UploadPart> = []
        for (let offset = 0; offset < bytes.length; offset += granularity) {
          const end = Math.min(offset + granularity, bytes.length)
          const prefix = Sha1.make()
          prefix.update(bytes.subarray(0, end))
          const datasha = end === bytes.length ? nodeSha1(bytes) : prefix.state()
          expected.push({ offset, datalen: end - offset, datasha })
        }
        assert.deepStrictEqual(result, expected)
        assert.strictEqual(builder.sha(), nodeSha1(bytes))
        assert.deepStrictEqual(parts(bytes, granularity), expected)
      },
      { fastCheck: { numRuns: 200 } }
    )
  })

  it.effect("layerPure provides the pure implementation", () =>
    Effect.gen(function*() {
      const sha1 = yield* Sha1.Sha1
      assert.strictEqual(sha1.name, "pure-ts")
      const hasher = sha1.make()
      hasher.update(new Uint8Array(64))
      assert.strictEqual(hasher.state(), "e504b492ed8c58564ecd1a6c683f05bf933af709")
    }).pipe(Effect.provide(Sha1.layerPure)))
})
