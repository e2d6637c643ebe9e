import * as SlicePlan from "@cos-v4/core/SlicePlan"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"

const plan = (size: number, slice: number) => Either.getOrThrow(SlicePlan.make(size, slice))

const assertExactCover = (p: SlicePlan.SlicePlan) => {
  const all = SlicePlan.slices(p)
  assert.strictEqual(all.length, p.count)
  let next = 0
  all.forEach((s, i) => {
    assert.strictEqual(s.index, i)
    assert.strictEqual(s.offset, next)
    assert.isTrue(s.length > 0)
    if (i < all.length - 1) assert.strictEqual(s.length, p.sliceSize)
    else assert.isTrue(s.length <= p.sliceSize)
    next += s.length
  })
  assert.strictEqual(next, p.fileSize)
}

describe("SlicePlan", () => {
  it("a 0-byte file has no slices", () => {
    const p = plan(0, 1048576)
    assert.strictEqual(p.count, 0)
    assert.deepStrictEqual(SlicePlan.slices(p), [])
  })

  it("boundary sizes k·slice and k·slice ± 1", () => {
    const s = 1024
    for (const k of [1, 2, 7]) {
      assert.strictEqual(plan(k * s, s).count, k)
      assert.strictEqual(plan(k * s - 1, s).count, k)
      assert.strictEqual(plan(k * s + 1, s).count, k + 1)
      assert.strictEqual(SlicePlan.slice(plan(k * s + 1, s), k).length, 1)
      assert.strictEqual(SlicePlan.slice(plan(k * s - 1, s), k - 1).length, s - 1)
      assertExactCover(plan(k * s, s))
      assertExactCover(plan(k * s - 1, s))
      assertExactCover(plan(k * s + 1, s))
    }
  })

  it.prop(
    "exact cover of [0, size), only the last slice short",
    [FastCheck.integer({ min: 0, max: 50_000_000 }), FastCheck.integer({ min: 1, max: 4_000_000 })],
    ([size, slice]) => {
      fc_assume(size / slice < 200_000)
      assertExactCover(plan(size, slice))
    }
  )

  it.prop(
    "offsets map back to their index and expected length",
    [FastCheck.integer({ min: 1, max: 10_000_000 }), FastCheck.constantFrom(...SlicePlan.allowedSliceSizes)],
    ([size, slice]) => {
      const p = plan(size, slice)
      for (const s of SlicePlan.slices(p)) {
        assert.strictEqual(SlicePlan.indexOfOffset(p, s.offset), s.index)
        assert.strictEqual(SlicePlan.expectedLength(p, s.offset), s.length)
      }
      assert.isUndefined(SlicePlan.indexOfOffset(p, 1))
      assert.isUndefined(SlicePlan.indexOfOffset(p, p.count * slice))
      assert.isUndefined(SlicePlan.indexOfOffset(p, -slice))
    }
  )

  it.prop(
    "missing = all slices minus the acknowledged ones",
    [FastCheck.integer({ min: 0, max: 64 }), FastCheck.array(FastCheck.integer({ min: 0, max: 80 }))],
    ([count, acked]) => {
      const p = plan(count * 100 - (count > 0 ? 7 : 0), 100)
      const ackedOffsets = acked.map((i) => i * 100)
      const missing = SlicePlan.missing(p, ackedOffsets)
      const ackedSet = new Set(ackedOffsets)
      assert.strictEqual(
        missing.length,
        SlicePlan.slices(p).filter((s) => !ackedSet.has(s.offset)).length
      )
      for (const s of missing) assert.isFalse(ackedSet.has(s.offset))
    }
  )

  it("rejects invalid sizes with InvalidArgument", () => {
    for (const [size, slice] of [[-1, 1024], [1.5, 1024], [10, 0], [10, -3], [Number.NaN, 1]] as const) {
      const r = SlicePlan.make(size, slice)
      assert.isTrue(Either.isLeft(r))
      if (Either.isLeft(r)) assert.strictEqual(r.left._tag, "InvalidArgument")
    }
  })

  it("normalizeSliceSize keeps allowed sizes and defaults the rest", () => {
    for (const s of SlicePlan.allowedSliceSizes) assert.strictEqual(SlicePlan.normalizeSliceSize(s), s)
    assert.strictEqual(SlicePlan.normalizeSliceSize(12345), SlicePlan.defaultSliceSize)
    assert.strictEqual(SlicePlan.normalizeSliceSize(undefined), SlicePlan.defaultSliceSize)
  })
})

function fc_assume(cond: boolean) {
  FastCheck.pre(cond)
}
