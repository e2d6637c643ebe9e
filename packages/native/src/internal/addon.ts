/**
 * Loading the addon built from `addon/` (one binary: SHA-1 and the allocator setting).
 *
 * @internal
 */
import * as Either from "effect/Either"
import { createRequire } from "node:module"
import * as path from "node:path"

/** @internal */
export interface Binding {
  readonly init: (ctx: Uint8Array) => void
  readonly update: (ctx: Uint8Array, bytes: Uint8Array) => void
  readonly updateAsync: (ctx: Uint8Array, bytes: Uint8Array, done: () => void) => void
  readonly updateFileAsync?: (
    ctx: Uint8Array,
    fd: number,
    position: number,
    length: number,
    boundary: number,
    states: Uint8Array,
    done: (errno: number, bytesRead: number, statesWritten: number) => void,
    into?: Uint8Array | undefined
  ) => void
  readonly final: (ctx: Uint8Array, out: Uint8Array) => void
  readonly retainFreedHeap?: (trimThreshold: number, mmapThreshold: number, topPad: number) => boolean
  readonly ctxSize: number
  readonly offsetH: number
  readonly offsetNl: number
  readonly offsetNh: number
  readonly offsetData: number
  readonly offsetNum: number
  readonly wordSize: number
}

/** @internal where `pnpm install` (addon/build.mjs) puts the addon, relative to this file */
export const addonPath = "../../addon/build/Release/cos_v4_sha1.node"

/** @internal the addon at `file` (absolute, or relative to this file), or why it does not load */
export const requireAt = (file: string): Either.Either<Binding, string> => {
  try {
    return Either.right(createRequire(import.meta.url)(file) as Binding)
  } catch (error) {
    return Either.left(`cannot load ${file}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/**
 * The addon beside this package's sources, or, when this code runs from a bundle, in the `@cos-v4/native`
 * package that resolves from the bundle's location.
 */
const locate = (): Either.Either<Binding, string> => {
  const beside = requireAt(addonPath)
  if (Either.isRight(beside)) return beside
  try {
    const pkg = createRequire(import.meta.url).resolve("@cos-v4/native/package.json")
    return requireAt(path.join(path.dirname(pkg), "addon", "build", "Release", "cos_v4_sha1.node"))
  } catch {
    return beside
  }
}

let loaded: Either.Either<Binding, string> | undefined

/** @internal the addon, loaded once */
export const binding = (): Either.Either<Binding, string> => loaded ??= locate()
