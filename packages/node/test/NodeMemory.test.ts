import { assert, describe, it } from "@effect/vitest"
import * as childProcess from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const module = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/NodeMemory.ts")

/**
 * The young generation's size (V8's `new_space`) in a fresh process before and after a workload that keeps some of what it
 * allocates alive across collections, as in-flight requests do; with or without `boundYoungGeneration`.
 */
const youngGeneration = (bound: boolean): { readonly before: number; readonly after: number } => {
  const script = `
    import * as Effect from "effect/Effect"
    import * as NodeMemory from ${JSON.stringify(module)}
    import v8 from "node:v8"
    const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size
    if (${bound}) Effect.runSync(NodeMemory.boundYoungGeneration)
    const before = size()
    let live = []
    for (let i = 0; i < 2e6; i++) { live.push({ i, s: "x" + i }); if (live.length > 20000) live = live.slice(10000) }
    process.stdout.write(JSON.stringify({ before, after: size() }))
  `
  const out = childProcess.execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    cwd: path.dirname(module)
  })
  return JSON.parse(out)
}

describe("NodeMemory", () => {
  it("boundYoungGeneration keeps the young generation small", () => {
    // (loading TypeScript through tsx already grows it before the call)
    const grown = youngGeneration(false)
    const bounded = youngGeneration(true)
    assert.isAbove(grown.after, grown.before, `default: ${JSON.stringify(grown)}`)
    assert.strictEqual(bounded.after, bounded.before, `bounded: ${JSON.stringify(bounded)}`)
  })
})
