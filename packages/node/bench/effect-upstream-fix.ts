/**
 * The change to effect's `internal/core.js` that the bench measures as "effect with the upstream fix": every function
 * literal that effect assigns straight to an `effect_instruction_i*` property is bound to a local first.
 *
 * Why: V8's parser pretenures a function literal assigned straight to a property (`obj.p = () => …`), and the
 * interpreter and Sparkplug allocate such closures in the old generation (TurboFan does not). Effect 3.22 does this
 * on every `Effect.async`, `unsafeAsync` (semaphores, Deferreds), `interruptible`, `uninterruptible`, their masks
 * and `withRuntimeFlags`. The closure dies at once but stays in the old generation until the next full collection,
 * and until then its young context is a root of every minor collection: what it reaches (the fiber, the registration
 * and what that captures) survives and is promoted. Until V8 has optimized that code (at the start of a process, and
 * again after each deoptimization) this drives V8 to grow its young generation from 2 × 8 to 2 × 16 MiB
 * (docs/benchmarks.md). Binding the literal to a local first removes the pretenuring; nothing else changes.
 *
 * The bench applies it at bundle time (esbuild `onLoad`) to a second client bundle only; the library and its users
 * run effect as published.
 */
import * as Fs from "node:fs"

/** Lines such as `  effect.effect_instruction_i1 = oldFlags => …;` (one line) or `…_i0 = resume => {` (a block). */
const site = /^(\s*)(\w+)\.(effect_instruction_i\d) = ((?:\w+|\([\w, ]*\)) => .*)$/

/**
 * Rewrites `source` (effect's `dist/esm/internal/core.js`); throws when it finds no site or a site it cannot
 * rewrite, so that a changed effect fails the bench instead of silently measuring the published code.
 */
export const bindClosuresToLocals = (source: string): { readonly code: string; readonly sites: number } => {
  const lines = source.split("\n")
  const out: Array<string> = []
  let sites = 0
  for (let i = 0; i < lines.length; i++) {
    const m = site.exec(lines[i]!)
    if (m === null) {
      out.push(lines[i]!)
      continue
    }
    const [, indent, target, field, literal] = m as unknown as [string, string, string, string, string]
    const local = `closure_${sites++}`
    if (literal.endsWith(";")) {
      // the whole literal is on this line
      out.push(`${indent}const ${local} = ${literal}`, `${indent}${target}.${field} = ${local};`)
    } else if (literal.endsWith("{")) {
      // a block body: it ends at the first line that closes it at the same indentation
      const end = lines.indexOf(`${indent}};`, i + 1)
      if (end < 0) throw new Error(`effect-upstream-fix: no end for the closure at line ${i + 1}`)
      out.push(`${indent}const ${local} = ${literal}`, ...lines.slice(i + 1, end + 1))
      out.push(`${indent}${target}.${field} = ${local};`)
      i = end
    } else {
      throw new Error(`effect-upstream-fix: cannot rewrite line ${i + 1}: ${lines[i]}`)
    }
  }
  if (sites === 0) throw new Error("effect-upstream-fix: no closure assigned to an effect_instruction property")
  return { code: out.join("\n"), sites }
}

/** An esbuild plugin that applies `bindClosuresToLocals` to effect's `internal/core.js`. */
export const esbuildPlugin = (onSites: (sites: number) => void) => ({
  name: "effect-upstream-fix",
  setup(build: {
    onLoad(
      options: { readonly filter: RegExp },
      callback: (args: { readonly path: string }) => { readonly contents: string; readonly loader: "js" }
    ): void
  }) {
    build.onLoad({ filter: /[\\/]effect[\\/]dist[\\/]esm[\\/]internal[\\/]core\.js$/ }, (args) => {
      const { code, sites } = bindClosuresToLocals(Fs.readFileSync(args.path, "utf8"))
      onSites(sites)
      return { contents: code, loader: "js" }
    })
  }
})
