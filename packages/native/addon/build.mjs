// Builds the optional OpenSSL SHA-1 addon (run by `pnpm install` through the package's `install` script).
// Offline: uses the node-gyp bundled with npm (or pnpm's, or one on PATH) and the headers that ship next to
// the running `node` (official Node tarballs include include/node, with openssl/). A failed build does not fail
// the install: @cos-v4/native then falls back to the pure-TypeScript SHA-1. Set COS_V4_SKIP_NATIVE=1 to skip.
import { spawnSync } from "node:child_process"
import fs from "node:fs"
import { createRequire } from "node:module"
import path from "node:path"

const here = import.meta.dirname
const log = (message) => process.stderr.write(`@cos-v4/native SHA-1: ${message}\n`)

if (process.env.COS_V4_SKIP_NATIVE === "1") {
  log("skipped (COS_V4_SKIP_NATIVE=1)")
  process.exit(0)
}

const findNodeGyp = () => {
  const candidates = []
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp)
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js"))
  } catch {
    // not installed as a package
  }
  const prefix = path.resolve(path.dirname(process.execPath), "..")
  candidates.push(path.join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"))
  candidates.push(
    path.join(path.dirname(process.execPath), "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js")
  )
  return candidates.find((file) => file.endsWith(".js") && fs.existsSync(file))
}

const nodeGyp = findNodeGyp()
if (nodeGyp === undefined) {
  log("node-gyp not found; the pure-TypeScript SHA-1 will be used")
  process.exit(0)
}

const args = [nodeGyp, "rebuild", "--directory", here]
if (!process.env.npm_config_nodedir) {
  const prefix = path.resolve(path.dirname(process.execPath), "..")
  if (fs.existsSync(path.join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`)
}
const result = spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] })
if (result.status !== 0) {
  log(`build failed (${result.error?.message ?? `exit ${result.status}`}); the pure-TypeScript SHA-1 will be used`)
} else {
  log("built")
}
