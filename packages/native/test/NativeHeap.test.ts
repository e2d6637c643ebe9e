import * as NativeHeap from "@cos-v4/native/NativeHeap"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as childProcess from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const addon = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../addon/build/Release/cos_v4_sha1.node")
const glibc = process.platform === "linux" &&
  typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ===
    "string"

/**
 * Page faults of a fresh process that allocates sixteen 64 KiB buffers (what node's HTTP parser does for a 1 MiB
 * body), drops them and collects, 200 times, after 20 rounds of warm-up; with or without `retainFreedHeap`.
 */
const faults = (retain: boolean): number => {
  const script = `
    import { createRequire } from "node:module"
    import fs from "node:fs"
    const addon = createRequire(import.meta.url)(${JSON.stringify(addon)})
    if (${retain}) addon.retainFreedHeap(${NativeHeap.defaults.trimThreshold}, ${NativeHeap.defaults.mmapThreshold}, ${NativeHeap.defaults.topPad})
    const minflt = () => { const s = fs.readFileSync("/proc/self/stat", "latin1"); return Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[7]) }
    const round = () => { let keep = []; for (let i = 0; i < 16; i++) { const b = Buffer.allocUnsafeSlow(65536); b.fill(i); keep.push(b) } keep = null; globalThis.gc() }
    for (let i = 0; i < 20; i++) round()
    const before = minflt()
    for (let i = 0; i < 200; i++) round()
    process.stdout.write(String(minflt() - before))
  `
  const out = childProcess.execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
    encoding: "utf8"
  })
  return Number(out)
}

describe("NativeHeap", () => {
  it.effect.skipIf(!glibc)("retainFreed applies glibc's settings", () =>
    Effect.gen(function*() {
      assert.isTrue(yield* NativeHeap.retainFreed())
      assert.isTrue(NativeHeap.unsafeRetainFreed({ trimThreshold: 64 << 20 }))
    }))

  it.skipIf(!glibc)("freed body-sized buffers are reused instead of being faulted in again", () => {
    // measured: 600-5100 faults without (when the collector's background threads free the buffers varies), about
    // 200-400 with (from the collections themselves): the most of three runs without, the least of two with
    const without = Math.max(faults(false), faults(false), faults(false))
    const withRetain = Math.min(faults(true), faults(true))
    assert.isBelow(withRetain * 3, without, `with ${withRetain} faults, without ${without}`)
  })

  it.skipIf(!glibc)("rejects sizes that are not non-negative 32-bit integers", () => {
    assert.throws(() => NativeHeap.unsafeRetainFreed({ topPad: -1 }), RangeError)
  })
})
