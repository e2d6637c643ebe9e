import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// examples/docs/*.test.ts: the documentation's test examples, extracted by scripts/codegen.mjs, run here
export default mergeConfig(shared, defineConfig({ test: { name: "node", include: ["examples/docs/*.test.ts"] } }))
