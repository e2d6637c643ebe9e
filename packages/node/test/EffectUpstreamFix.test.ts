import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { bindClosuresToLocals } from "../bench/effect-upstream-fix.js"

describe("effect-upstream-fix (the bench's patched client)", () => {
  it("binds one-line and block closures to locals and leaves everything else alone", () => {
    const source = [
      "export const a = (register) => {",
      "  const effect = new EffectPrimitive(OpCodes.OP_ASYNC);",
      "  effect.effect_instruction_i0 = resume => {",
      "    register(resume);",
      "  };",
      "  effect.effect_instruction_i1 = blockingOn;",
      "  return effect;",
      "};",
      "export const b = self => {",
      "  effect.effect_instruction_i1 = (a, b) => self;",
      "  return effect;",
      "};"
    ].join("\n")
    const { code, sites } = bindClosuresToLocals(source)
    assert.strictEqual(sites, 2)
    assert.strictEqual(
      code,
      [
        "export const a = (register) => {",
        "  const effect = new EffectPrimitive(OpCodes.OP_ASYNC);",
        "  const closure_0 = resume => {",
        "    register(resume);",
        "  };",
        "  effect.effect_instruction_i0 = closure_0;",
        "  effect.effect_instruction_i1 = blockingOn;",
        "  return effect;",
        "};",
        "export const b = self => {",
        "  const closure_1 = (a, b) => self;",
        "  effect.effect_instruction_i1 = closure_1;",
        "  return effect;",
        "};"
      ].join("\n")
    )
  })

  it("fails rather than measure unpatched code", () => {
    assert.throws(() => bindClosuresToLocals("export const x = 1;\n"), /no closure/)
    assert.throws(() => bindClosuresToLocals("  e.effect_instruction_i0 = r => f(\n    r);\n"), /cannot rewrite/)
    assert.throws(() => bindClosuresToLocals("  e.effect_instruction_i0 = r => {\n    r();\n"), /no end/)
  })

  it("finds the seven sites of the installed effect's core", () => {
    const require = createRequire(import.meta.url)
    const core = Path.join(Path.dirname(require.resolve("effect/package.json")), "dist/esm/internal/core.js")
    const { code, sites } = bindClosuresToLocals(Fs.readFileSync(core, "utf8"))
    assert.strictEqual(sites, 7)
    assert.notMatch(code, /\.effect_instruction_i\d = (\w+|\([\w, ]*\)) =>/)
  })
})
