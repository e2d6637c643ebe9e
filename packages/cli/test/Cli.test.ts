import { afterAll, assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const repo = path.resolve(import.meta.dirname, "../../..")
const tsx = path.join(repo, "node_modules/.bin/tsx")
const bin = path.join(repo, "packages/cli/src/bin.ts")

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

const env = (extra: Record<string, string> = {}) => {
  const e: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("COS_") && k !== "INIT_CWD" && k !== "npm_package_name") e[k] = v
  }
  return { ...e, ...extra }
}

const start = (args: ReadonlyArray<string>, cwd: string, extraEnv: Record<string, string> = {}): ChildProcess =>
  spawn(tsx, [bin, ...args], { cwd, env: env(extraEnv), stdio: ["ignore", "pipe", "pipe"] })

const collect = (child: ChildProcess, onStderr?: (text: string) => void): Promise<Run> =>
  new Promise((resolve) => {
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => {
      stderr += d
      onStderr?.(stderr)
    })
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

const cos = (args: ReadonlyArray<string>, cwd: string, extraEnv: Record<string, string> = {}) =>
  collect(start(args, cwd, extraEnv))

const tempDirs: Array<string> = []
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cos-cli-"))
  tempDirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true })
})

const writeRandom = (file: string, size: number): string => {
  const data = crypto.randomBytes(size)
  fs.writeFileSync(file, data)
  return crypto.createHash("sha1").update(data).digest("hex")
}

/** Starts `cos serve` and resolves with its URL once it printed the one ready line. */
const serve = (args: ReadonlyArray<string>, cwd: string) =>
  new Promise<{ readonly url: string; readonly child: ChildProcess; readonly firstLine: string }>(
    (resolve, reject) => {
      const child = start(["serve", "--port", "0", ...args], cwd)
      let out = ""
      child.stdout!.on("data", (d) => {
        out += d
        const m = /^listening on (http:\/\/[^\s]+)\n/.exec(out)
        if (m !== null) resolve({ url: m[1]!, child, firstLine: out.split("\n")[0]! })
      })
      child.on("exit", (code) => reject(new Error(`serve exited ${code}`)))
    }
  )

const noStackTrace = (stderr: string) => {
  assert.notMatch(stderr, /\n\s+at /, "no stack trace")
  assert.match(stderr, /^cos: /m)
}

describe("cos", () => {
  it("uploads to the embedded emulator by default and stat reports the same sha", async () => {
    const dir = tempDir()
    const sha = writeRandom(path.join(dir, "a.bin"), 3 * 1048576 + 17)
    const up = await cos(["upload", "a.bin", "/x/a.bin", "--json", "--integrity", "inline"], dir)
    assert.strictEqual(up.code, 0, up.stderr)
    assert.match(up.stderr, /using an embedded emulator/)
    const receipt = JSON.parse(up.stdout)
    assert.strictEqual(receipt.sha1, sha)
    assert.strictEqual(receipt.fileSize, 3 * 1048576 + 17)
    assert.isTrue(fs.existsSync(path.join(dir, ".cos-data")))
    const stat = await cos(["stat", "/x/a.bin", "--json"], dir)
    assert.strictEqual(stat.code, 0, stat.stderr)
    assert.strictEqual(JSON.parse(stat.stdout).sha, sha)
    const ls = await cos(["ls", "/x/", "--json"], dir)
    assert.deepStrictEqual(JSON.parse(ls.stdout).map((e: { name: string }) => e.name), ["a.bin"])
  })

  it("bad input gets one clear line and a distinct exit code", async () => {
    const dir = tempDir()
    writeRandom(path.join(dir, "a.bin"), 10)
    const missing = await cos(["upload", "nope.bin", "/a.bin"], dir)
    assert.strictEqual(missing.code, 3)
    noStackTrace(missing.stderr)
    assert.match(missing.stderr, /nope\.bin/)
    const badPath = await cos(["upload", "a.bin", "/a|b.bin"], dir)
    assert.strictEqual(badPath.code, 2)
    noStackTrace(badPath.stderr)
    const unreachable = await cos(
      ["upload", "a.bin", "/a.bin", "--retries", "1", "--endpoint", "http://127.0.0.1:9"],
      dir,
      { COS_APPID: "1250000000", COS_BUCKET: "b", COS_SECRET_ID: "AKID", COS_SECRET_KEY: "k" }
    )
    assert.strictEqual(unreachable.code, 6, unreachable.stderr)
    noStackTrace(unreachable.stderr)
    assert.match(unreachable.stderr, /endpoint/)
    const noCreds = await cos(["stat", "/a.bin", "--endpoint", "http://127.0.0.1:9"], dir)
    assert.strictEqual(noCreds.code, 2)
    assert.match(noCreds.stderr, /secret/)
  })

  it("serve prints exactly one ready line; wrong credentials exit 4; flags beat env and config file", async () => {
    const dir = tempDir()
    const server = await serve(
      ["--data-dir", path.join(dir, "data"), "--bucket", "bkt", "--credential", "AKIDok:right", "--auth", "strict"],
      dir
    )
    try {
      assert.match(server.firstLine, /^listening on http:\/\/127\.0\.0\.1:\d+$/)
      const sha = writeRandom(path.join(dir, "f.bin"), 2 * 1048576)
      fs.writeFileSync(
        path.join(dir, "cos.config.json"),
        JSON.stringify({
          endpoint: server.url,
          appid: 1250000000,
          bucket: "bkt",
          secretId: "AKIDok",
          secretKey: "wrong"
        })
      )
      const wrong = await cos(["upload", "f.bin", "/f.bin"], dir)
      assert.strictEqual(wrong.code, 4, wrong.stderr)
      noStackTrace(wrong.stderr)
      const envWins = await cos(["upload", "f.bin", "/f.bin", "--json"], dir, { COS_SECRET_KEY: "right" })
      assert.strictEqual(envWins.code, 0, envWins.stderr)
      assert.strictEqual(JSON.parse(envWins.stdout).sha1, sha)
      assert.notMatch(envWins.stderr, /embedded/)
      const flagWins = await cos(["mkdir", "/d", "--secret-key", "right"], dir, { COS_SECRET_KEY: "wrong" })
      assert.strictEqual(flagWins.code, 0, flagWins.stderr)
      const rm = await cos(["rm", "/f.bin"], dir, { COS_SECRET_KEY: "right" })
      assert.strictEqual(rm.code, 0, rm.stderr)
      const gone = await cos(["stat", "/f.bin"], dir, { COS_SECRET_KEY: "right" })
      assert.strictEqual(gone.code, 5, gone.stderr)
    } finally {
      server.child.kill("SIGTERM")
    }
  })

  it("run as `pnpm cos` (in packages/cli): relative paths and .cos-data are those of the directory typed in", async () => {
    const dir = tempDir()
    const sha = writeRandom(path.join(dir, "f.bin"), 4096)
    const cliDir = path.dirname(path.dirname(bin))
    const run = await cos(["upload", "f.bin", "/f.bin", "--json"], cliDir, {
      INIT_CWD: dir,
      npm_package_name: "@cos-v4/cli"
    })
    assert.strictEqual(run.code, 0, run.stderr)
    assert.strictEqual(JSON.parse(run.stdout).sha1, sha)
    assert.isTrue(fs.existsSync(path.join(dir, ".cos-data")))
  })

  it("Ctrl-C keeps the upload resumable and the rerun sends only what is missing", async () => {
    const dir = tempDir()
    const size = 96 * 1048576
    const sha = writeRandom(path.join(dir, "big.bin"), size)
    const child = start(["upload", "big.bin", "/big.bin", "--concurrency", "1", "--integrity", "inline"], dir)
    const first = await collect(child, (text) => {
      if (/: 25%/.test(text) && !child.killed) child.kill("SIGINT")
    })
    assert.strictEqual(first.code, 130, first.stderr)
    // the same command again (the embedded emulator gets another port: checkpoints name it by its data)
    const again = await cos(["upload", "big.bin", "/big.bin", "--integrity", "inline", "--json"], dir)
    assert.strictEqual(again.code, 0, again.stderr)
    const receipt = JSON.parse(again.stdout)
    assert.strictEqual(receipt.sha1, sha)
    assert.isTrue(receipt.resumed)
    assert.isAbove(receipt.slicesSkipped, 0)
    assert.strictEqual(receipt.slicesSent + receipt.slicesSkipped, receipt.sliceCount)
  })
})
