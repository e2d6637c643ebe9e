// Summarises a .cpuprofile: self time by function (top N) and by package.
import fs from "node:fs"
const [file, topN = "40"] = process.argv.slice(2)
const prof = JSON.parse(fs.readFileSync(file, "utf8"))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = prof.timeDeltas
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0))
const fn = new Map(), pkg = new Map()
let total = 0
for (const [id, t] of self) {
  const n = byId.get(id)
  const cf = n.callFrame
  total += t
  const url = cf.url.replace(/^file:\/\//, "")
  const m = /node_modules\/\.pnpm\/([^/]+)/.exec(url) ?? /packages\/([^/]+)/.exec(url)
  const p = m
    ? m[1].replace(/@[\d.]+.*$/, "")
    : url.startsWith("node:")
    ? "node:" + url.slice(5).split("/")[0]
    : cf.functionName.startsWith("(")
    ? cf.functionName
    : url || "(native)"
  const key = `${cf.functionName || "(anon)"} ${url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}`
  fn.set(key, (fn.get(key) ?? 0) + t)
  pkg.set(p, (pkg.get(p) ?? 0) + t)
}
const show = (m, n) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, t]) =>
    console.log(`${(t / 1000).toFixed(0).padStart(7)} ms ${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`)
  )
console.log(`total ${(total / 1000).toFixed(0)} ms`)
console.log("--- by package")
show(pkg, 25)
console.log("--- by function")
show(fn, Number(topN))
