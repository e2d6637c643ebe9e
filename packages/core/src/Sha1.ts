/**
 * SHA-1 with chaining-state export, for the v4 `sha` and `uploadparts` fields (protocol §3): the file is hashed
 * once, in order; every part but the last is labelled with the SHA-1 *chaining state* `H0..H4` after it (each
 * word little-endian, 40 lowercase hex chars), the last part and `sha` with the normal digest.
 *
 * `Sha1` is a service so that a platform can swap in a faster hasher (`@cos-v4/node` ships an OpenSSL one);
 * `layerPure` is the portable pure-TypeScript implementation.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type { InvalidArgument } from "./CosError.js"
import * as internal from "./internal/sha1.js"

/**
 * A mutable, incremental SHA-1 hasher.
 *
 * - `update` feeds bytes (any length, any alignment; the bytes are not retained).
 * - `state` is the chaining state after the full 64-byte blocks processed so far, as `uploadparts` wants it
 *   (each 32-bit word little-endian, 40 lowercase hex chars). It never fails; it is *the* chaining value of the
 *   input only when `byteLength` is a multiple of 64 (otherwise the trailing partial block is not included).
 * - `digest` / `digestBytes` return the standard SHA-1 of everything fed so far; they do not finalise the
 *   hasher, so it can be fed further.
 * - `exportState` returns a portable snapshot (see {@link fromState}) that includes the buffered partial block
 *   and the byte length, so a resumed upload can continue hashing where it stopped.
 * - `updateAsync`, when an implementation has it, feeds bytes off the JavaScript thread and calls `done` on it
 *   afterwards. Until `done` runs, neither the hasher nor the bytes may be touched (no other call, no writes
 *   into the bytes). Callers fall back to `update` when it is absent.
 * - `updateFileAsync`, when an implementation has it, feeds bytes of an open file (read by the implementation,
 *   off the JavaScript thread) and reports the chaining state at each multiple of `boundary` of `byteLength`
 *   reached on the way (see {@link FileUpdate}). Until `done` runs, the hasher must not be touched nor the file
 *   descriptor closed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sha1Hasher {
  /** Bytes fed so far. */
  readonly byteLength: number
  update(bytes: Uint8Array): void
  readonly updateAsync?: ((bytes: Uint8Array, done: () => void) => void) | undefined
  readonly updateFileAsync?:
    | ((file: FileRange, boundary: number, done: (result: FileUpdate) => void) => void)
    | undefined
  state(): string
  digest(): string
  digestBytes(): Uint8Array
  clone(): Sha1Hasher
  exportState(): Uint8Array
}

/**
 * `length` bytes of the open file `fd` from `position`, for {@link Sha1Hasher.updateFileAsync}. With `into` (at
 * least `length` bytes) the bytes are also read into it, for a caller that sends them next: one job reads and
 * hashes them.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileRange {
  readonly fd: number
  readonly position: number
  readonly length: number
  readonly into?: Uint8Array | undefined
}

/**
 * What {@link Sha1Hasher.updateFileAsync} did: `bytesRead` bytes were fed (fewer than asked when the file ended
 * first or a read failed, then with the `errno`, 0 at the end of the file); `states` are the chaining states (as
 * `state()` formats them) at each multiple of the boundary that `byteLength` reached, in order.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileUpdate {
  readonly bytesRead: number
  readonly errno: number
  readonly states: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace Sha1 {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Service {
    /** A short name of the implementation, e.g. `"pure-ts"` or `"openssl"`. */
    readonly name: string
    readonly make: () => Sha1Hasher
    /** Resumes from `Sha1Hasher.exportState()` output (of any implementation); `None` when malformed. */
    readonly fromState: (state: Uint8Array) => Option.Option<Sha1Hasher>
  }
}

/**
 * The SHA-1 implementation in use.
 *
 * @since 0.1.0
 * @category tags
 */
export class Sha1 extends Context.Tag("@cos-v4/core/Sha1")<Sha1, Sha1.Service>() {}

/**
 * A new pure-TypeScript hasher (unrolled compression over a `DataView`; it allocates only one `DataView` per
 * `update` call that covers at least one full block).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: () => Sha1Hasher = internal.make

/**
 * Resumes a pure-TypeScript hasher from an exported state.
 *
 * The portable state format (shared by every implementation): bytes 0–19 the chaining state `H0..H4`, each word
 * little-endian (the same bytes `state()` prints); bytes 20–27 the number of bytes hashed, an unsigned 64-bit
 * little-endian integer `n`; then the `n mod 64` buffered bytes of the partial block. Returns `None` when the
 * length does not match or `n` exceeds `Number.MAX_SAFE_INTEGER`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromState: (state: Uint8Array) => Option.Option<Sha1Hasher> = internal.fromState

/**
 * The pure-TypeScript implementation as a service value.
 *
 * @since 0.1.0
 * @category services
 */
export const pure: Sha1.Service = { name: "pure-ts", make, fromState }

/**
 * Provides the pure-TypeScript implementation.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPure: Layer.Layer<Sha1> = Layer.succeed(Sha1, pure)

/**
 * One entry of `uploadparts` (protocol §3.2).
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadPart {
  readonly offset: number
  readonly datalen: number
  readonly datasha: string
}

/**
 * Computes `uploadparts` while the file is read in order. Feed every byte of the file, in order, with `update`
 * (chunks of any size); at each `granularity` boundary the chaining state is recorded. `parts` holds the parts
 * known to be final so far (a part ending exactly where the input ends so far is held back until more bytes
 * arrive, because a last part carries the digest instead of the state). `finish` returns the complete list
 * (empty for an empty file) without consuming the builder; `sha` is the digest of the bytes fed so far, i.e. the
 * file's `sha` once everything has been fed. `updateAsync` feeds like `update` and calls `done` afterwards; it
 * hashes off the JavaScript thread when the hasher has `updateAsync` and the bytes do not cross a part boundary
 * (they may end on one), and at once otherwise. Until `done` runs, neither the builder nor the bytes may be touched.
 * `updateFileAsync` is there when the hasher can read and hash a file itself.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadPartsBuilder {
  readonly granularity: number
  /** Bytes fed so far. */
  readonly byteLength: number
  readonly parts: ReadonlyArray<UploadPart>
  update(bytes: Uint8Array): void
  updateAsync(bytes: Uint8Array, done: () => void): void
  /**
   * Feeds the bytes of an open file through the hasher's `updateFileAsync` (recording the part boundaries on
   * the way); `undefined` when the hasher has none (feed the bytes with `update` / `updateAsync` then).
   */
  readonly updateFileAsync: ((file: FileRange, done: (result: FileUpdate) => void) => void) | undefined
  sha(): string
  finish(): Array<UploadPart>
}

/**
 * Whether `granularity` can be used for `uploadparts`: a positive (safe) integer multiple of 64 bytes, so that
 * every boundary falls between SHA-1 blocks.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isValidGranularity: (granularity: number) => boolean = internal.isValidGranularity

/**
 * A new `uploadparts` builder; `InvalidArgument` (`InvalidSliceSize`) when the granularity is not a positive
 * multiple of 64. `make` chooses the hasher (default: the pure-TypeScript one; pass `Sha1.Service#make` to use
 * the provided implementation).
 *
 * @since 0.1.0
 * @category constructors
 */
export const uploadPartsBuilder: (
  granularity: number,
  make?: () => Sha1Hasher
) => Either.Either<UploadPartsBuilder, InvalidArgument> = internal.uploadPartsBuilder

/**
 * `uploadparts` of a whole file given as one buffer or as its chunks in order. The last entry's `datasha` is the
 * file's `sha`. An empty file has no parts.
 *
 * @since 0.1.0
 * @category constructors
 */
export const uploadParts: (
  input: Uint8Array | Iterable<Uint8Array>,
  granularity: number,
  make?: () => Sha1Hasher
) => Either.Either<Array<UploadPart>, InvalidArgument> = internal.uploadParts
