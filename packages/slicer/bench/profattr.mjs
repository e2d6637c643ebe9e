// Attributes each CPU sample of a bundle's .cpuprofile to the deepest frame in our own code (modules whose
// esbuild "// packages/..." marker matches --ours, default "packages/"), to see which of our functions cause
// the runtime's work.  node profattr.mjs PROFILE BUNDLE [N]
import fs from "node:fs"
const [file, bundle, topN = "50"] = process.argv.slice(2)
const lines = fs.readFileSync(bundle, "utf8").split("\n")
const modAt = []
let mod = "?"
for (let i = 0; i < lines.length; i++) {
  const m = /^\/\/ (\S+\.(?:ts|js|mjs))$/.exec(lines[i])
  if (m) mod = m[1]
  modAt.push(mod)
}
const prof = JSON.parse(fs.readFileSync(file, "utf8"))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const ours = (n) =>
  n.callFrame.url.endsWith(bundle.split("/").pop()) && modAt[n.callFrame.lineNumber]?.startsWith("packages/")
const acc = new Map()
let total = 0
for (let i = 0; i < prof.samples.length; i++) {
  const t = prof.timeDeltas[i] ?? 0
  let id = prof.samples[i]
  const leaf = byId.get(id)
  if (leaf.callFrame.functionName === "(idle)") continue
  total += t
  let key = "(no frame of ours) " + (leaf.callFrame.functionName || "anon")
  while (id !== undefined) {
    const n = byId.get(id)
    if (ours(n)) {
      const ln = n.callFrame.lineNumber
      key = `${n.callFrame.functionName || "(anon)"} ${modAt[ln].split("/").slice(-1)[0]}:${ln + 1}  | ${
        lines[ln].trim().slice(0, 70)
      }`
      break
    }
    id = parent.get(id)
  }
  acc.set(key, (acc.get(key) ?? 0) + t)
}
console.log(`busy ${(total / 1000).toFixed(0)} ms`)
;[...acc].sort((a, b) => b[1] - a[1]).slice(0, Number(topN)).forEach(([k, t]) =>
  console.log(`${(t / 1000).toFixed(0).padStart(6)} ms ${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`)
)
