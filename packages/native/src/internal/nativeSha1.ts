/**
 * SHA-1 through a tiny N-API addon over the OpenSSL that Node links (see addon/sha1.c).
 *
 * @internal
 */
import * as Sha1 from "@cos-v4/core/Sha1"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Addon from "./addon.js"

type Binding = Addon.Binding

const TWO_29 = 536870912
const TWO_32 = 4294967296
const STATE_PREFIX = 28
/** the chaining state after 64 zero bytes (protocol §3.4), to check the layout once at load time */
const ZERO_BLOCK_STATE = "e504b492ed8c58564ecd1a6c683f05bf933af709"

class NativeSha1 implements Sha1.Sha1Hasher {
  readonly words: Uint32Array
  readonly scratch = Buffer.alloc(20)
  readonly scratchView = new DataView(this.scratch.buffer, this.scratch.byteOffset, 20)

  constructor(readonly binding: Binding, readonly ctx: Uint8Array) {
    this.words = new Uint32Array(ctx.buffer, ctx.byteOffset, ctx.byteLength >>> 2)
    this.updateFileAsync = binding.updateFileAsync === undefined ? undefined : this.updateFile
  }

  get byteLength(): number {
    const w = this.words
    const b = this.binding
    return w[b.offsetNh >>> 2]! * TWO_29 + w[b.offsetNl >>> 2]! / 8
  }

  update(bytes: Uint8Array): void {
    this.binding.update(this.ctx, bytes)
  }

  /** `SHA1_Update` on the addon's hashing thread (jobs run in order); `done` runs on the JavaScript thread. */
  readonly updateAsync = (bytes: Uint8Array, done: () => void): void => {
    if (bytes.length === 0) return done()
    this.binding.updateAsync(this.ctx, bytes, done)
  }

  /**
   * Hashes a range of an open file on the addon's hashing thread, recording the chaining state at each multiple of
   * `boundary` of `byteLength`: with `into`, that thread reads the range into it and hashes it; without, a reader
   * thread of the job reads ahead in 1 MiB chunks.
   */
  readonly updateFileAsync: Sha1.Sha1Hasher["updateFileAsync"]

  private readonly updateFile = (file: Sha1.FileRange, boundary: number, done: (result: Sha1.FileUpdate) => void) => {
    const start = this.byteLength
    const count = boundary > 0 ? Math.floor((start + file.length) / boundary) - Math.floor(start / boundary) : 0
    const states = new Uint8Array(20 * count)
    this.binding.updateFileAsync!(
      this.ctx,
      file.fd,
      file.position,
      file.length,
      boundary,
      states,
      (errno, bytesRead, written) => {
        const words = new Uint32Array(states.buffer, 0, written * 5)
        const out: Array<string> = []
        for (let k = 0; k < written; k++) {
          for (let i = 0; i < 5; i++) this.scratchView.setUint32(i * 4, words[k * 5 + i]!, true)
          out.push(this.scratch.toString("hex"))
        }
        done({ bytesRead, errno, states: out })
      },
      file.into
    )
  }

  state(): string {
    const w = this.words
    const h = this.binding.offsetH >>> 2
    const view = this.scratchView
    for (let i = 0; i < 5; i++) view.setUint32(i * 4, w[h + i]!, true)
    return this.scratch.toString("hex")
  }

  private finish(): Buffer {
    const copy = Uint8Array.from(this.ctx)
    this.binding.final(copy, this.scratch)
    return this.scratch
  }

  digest(): string {
    return this.finish().toString("hex")
  }

  digestBytes(): Uint8Array {
    return Uint8Array.from(this.finish())
  }

  clone(): Sha1.Sha1Hasher {
    return new NativeSha1(this.binding, Uint8Array.from(this.ctx))
  }

  exportState(): Uint8Array {
    const w = this.words
    const b = this.binding
    const length = this.byteLength
    const buffered = w[b.offsetNum >>> 2]!
    const out = new Uint8Array(STATE_PREFIX + buffered)
    const view = new DataView(out.buffer)
    const h = b.offsetH >>> 2
    for (let i = 0; i < 5; i++) view.setUint32(i * 4, w[h + i]!, true)
    view.setUint32(20, length % TWO_32, true)
    view.setUint32(24, Math.floor(length / TWO_32), true)
    out.set(this.ctx.subarray(b.offsetData, b.offsetData + buffered), STATE_PREFIX)
    return out
  }
}

const makeWith = (binding: Binding) => (): Sha1.Sha1Hasher => {
  const ctx = new Uint8Array(binding.ctxSize)
  binding.init(ctx)
  return new NativeSha1(binding, ctx)
}

const fromStateWith = (binding: Binding) => (state: Uint8Array): Option.Option<Sha1.Sha1Hasher> => {
  if (state.length < STATE_PREFIX) return Option.none()
  const view = new DataView(state.buffer, state.byteOffset, state.byteLength)
  const high = view.getUint32(24, true)
  if (high >= 2097152) return Option.none()
  const length = high * TWO_32 + view.getUint32(20, true)
  const buffered = length % 64
  if (state.length !== STATE_PREFIX + buffered) return Option.none()
  const ctx = new Uint8Array(binding.ctxSize)
  binding.init(ctx)
  const hasher = new NativeSha1(binding, ctx)
  const w = hasher.words
  const h = binding.offsetH >>> 2
  for (let i = 0; i < 5; i++) w[h + i] = view.getUint32(i * 4, true)
  w[binding.offsetNl >>> 2] = (length % TWO_29) * 8
  w[binding.offsetNh >>> 2] = Math.floor(length / TWO_29) % TWO_32
  ctx.set(state.subarray(STATE_PREFIX), binding.offsetData)
  w[binding.offsetNum >>> 2] = buffered
  return Option.some(hasher)
}

const serviceOf = (binding: Binding): Sha1.Sha1.Service => ({
  name: "openssl",
  make: makeWith(binding),
  fromState: fromStateWith(binding)
})

const check = (file: string) => (binding: Binding): Either.Either<Sha1.Sha1.Service, string> => {
  if (
    typeof binding.init !== "function" || typeof binding.update !== "function" ||
    typeof binding.final !== "function" || typeof binding.updateAsync !== "function" || binding.wordSize !== 4 ||
    binding.ctxSize % 4 !== 0 ||
    [binding.offsetH, binding.offsetNl, binding.offsetNh, binding.offsetNum].some((o) => o % 4 !== 0)
  ) {
    return Either.left(`unexpected SHA_CTX layout in ${file}`)
  }
  const service = serviceOf(binding)
  const probe = service.make()
  probe.update(new Uint8Array(64))
  if (probe.state() !== ZERO_BLOCK_STATE) return Either.left(`self-test of ${file} failed`)
  return Either.right(service)
}

/** @internal loads and self-tests the addon at `file` (absolute, or relative to this file) */
export const load = (file: string): Either.Either<Sha1.Sha1.Service, string> =>
  Either.flatMap(Addon.requireAt(file), check(file))

let loaded: Either.Either<Sha1.Sha1.Service, string> | undefined
let logged = false

/** @internal the addon, loaded once */
export const native = (): Either.Either<Sha1.Sha1.Service, string> =>
  loaded ??= Either.flatMap(Addon.binding(), check("the addon"))

/** @internal the loaded service, or the pure one (the first fallback is logged at debug level) */
export const serviceFrom = (result: Either.Either<Sha1.Sha1.Service, string>): Effect.Effect<Sha1.Sha1.Service> =>
  Either.match(result, {
    onRight: Effect.succeed,
    onLeft: (reason) =>
      Effect.suspend(() => {
        if (logged) return Effect.succeed(Sha1.pure)
        logged = true
        return Effect.as(
          Effect.logDebug(`native SHA-1 unavailable (${reason}); using the pure-TypeScript SHA-1`),
          Sha1.pure
        )
      })
  })

/** @internal */
export const service: Effect.Effect<Sha1.Sha1.Service> = Effect.suspend(() => serviceFrom(native()))

/** @internal */
export const layer: Layer.Layer<Sha1.Sha1> = Layer.effect(Sha1.Sha1, service)
