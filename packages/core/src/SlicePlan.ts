/**
 * Slice arithmetic: how a file of a given size is cut into slices of a given size. Every slice is
 * `sliceSize` bytes except the last, which is `fileSize - offset`; a 0-byte file has no slices.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidArgument } from "./CosError.js"

/**
 * The slice sizes the v4 server documents ("有效值 524288, 1048576, 2097152, 3145728").
 *
 * @since 0.1.0
 * @category constants
 */
export const allowedSliceSizes: ReadonlyArray<number> = [524288, 1048576, 2097152, 3145728]

/**
 * The default slice size (1 MiB): what every official SDK sends by default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSliceSize = 1048576

/**
 * The largest file the simple `upload` accepts (20 MB).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxSimpleUploadSize: number = 20 * 1024 * 1024

/**
 * One slice: its index, byte offset and length.
 *
 * @since 0.1.0
 * @category models
 */
export interface Slice {
  readonly index: number
  readonly offset: number
  readonly length: number
}

/**
 * A slice plan.
 *
 * @since 0.1.0
 * @category models
 */
export interface SlicePlan {
  readonly fileSize: number
  readonly sliceSize: number
  readonly count: number
}

/**
 * Builds a plan; fails with `InvalidArgument` for a negative or non-integer size, or a slice size that is not
 * a positive integer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (fileSize: number, sliceSize: number): Either.Either<SlicePlan, InvalidArgument> => {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
    return Either.left(
      new InvalidArgument({ reason: "InvalidSize", argument: "fileSize", detail: `${fileSize} is not a size` })
    )
  }
  if (!Number.isSafeInteger(sliceSize) || sliceSize <= 0) {
    return Either.left(
      new InvalidArgument({
        reason: "InvalidSliceSize",
        argument: "sliceSize",
        detail: `${sliceSize} is not a positive integer`
      })
    )
  }
  return Either.right({ fileSize, sliceSize, count: Math.ceil(fileSize / sliceSize) })
}

/**
 * The slice at `index` (0 ≤ index < count).
 *
 * @since 0.1.0
 * @category getters
 */
export const slice = (plan: SlicePlan, index: number): Slice => {
  const offset = index * plan.sliceSize
  return { index, offset, length: Math.min(plan.sliceSize, plan.fileSize - offset) }
}

/**
 * Every slice, in offset order.
 *
 * @since 0.1.0
 * @category getters
 */
export const slices = (plan: SlicePlan): Array<Slice> => {
  const out: Array<Slice> = new Array(plan.count)
  for (let i = 0; i < plan.count; i++) out[i] = slice(plan, i)
  return out
}

/**
 * The index of the slice that starts at `offset`, if `offset` is a slice boundary inside the file.
 *
 * @since 0.1.0
 * @category getters
 */
export const indexOfOffset = (plan: SlicePlan, offset: number): number | undefined => {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % plan.sliceSize !== 0) return undefined
  const index = offset / plan.sliceSize
  return index < plan.count ? index : undefined
}

/**
 * The length a slice starting at `offset` must have, if `offset` is a valid slice boundary.
 *
 * @since 0.1.0
 * @category getters
 */
export const expectedLength = (plan: SlicePlan, offset: number): number | undefined => {
  const index = indexOfOffset(plan, offset)
  return index === undefined ? undefined : slice(plan, index).length
}

/**
 * The slices not yet acknowledged, given the acknowledged offsets.
 *
 * @since 0.1.0
 * @category getters
 */
export const missing = (plan: SlicePlan, acknowledged: Iterable<number>): Array<Slice> => {
  const done = new Set(acknowledged)
  return slices(plan).filter((s) => !done.has(s.offset))
}

/**
 * Picks the server slice size for a requested one: an allowed size is kept, anything else becomes the
 * default (the SDKs adopt whatever the server answers).
 *
 * @since 0.1.0
 * @category constructors
 */
export const normalizeSliceSize = (requested: number | undefined): number =>
  requested !== undefined && allowedSliceSizes.includes(requested) ? requested : defaultSliceSize
