// Issue 7 item 2: a real `cos upload` process is killed with SIGKILL at a random point of a multi-slice upload,
// then rerun. CI: 3 runs; COS_RELIABILITY_FULL=1: 10 runs (docs/reliability.md).
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as H from "./harness.js"

const RUNS = H.count(3, 10)
const slice = 512 * 1024
const size = 24 * H.MiB + 12345
const slices = Math.ceil(size / slice)

describe("reliability: client crashes (SIGKILL of cos upload)", () => {
  it(
    `${RUNS} runs: killed mid-upload, rerun completes with the source's sha; re-sent ≤ concurrency × slice`,
    async () => {
      const dir = H.tempDir("client-crash")
      const dataDir = path.join(dir, "data")
      const emulator = await H.startEmulator(dataDir)
      // 16 MiB/s between client and server: the upload lasts ~1.5 s and can be killed at a chosen point
      const proxy = await H.throttle(emulator.port, 16 * H.MiB)
      const endpoint = `http://127.0.0.1:${proxy.port}`
      const rand = H.prng(7 * 1000 + RUNS)
      const figures: Array<Record<string, number>> = []
      try {
        for (let run = 0; run < RUNS; run++) {
          const file = path.join(dir, `src-${run}.bin`)
          const sha = H.writeRandom(file, size)
          const target = `/crash/run-${run}.bin`
          const concurrency = 1 + rand(4)
          // every third run is killed early (start-up, hashing, init) at a random time; the others once a random
          // number of slices is acknowledged
          const early = run % 3 === 2
          const killAt = (1 + rand(slices - 3)) * slice // acknowledged bytes at which to kill
          const killAfterMs = 300 + rand(1500)
          const args = [
            "upload",
            file,
            target,
            "--endpoint",
            endpoint,
            "--json",
            "--slice-size",
            "512KiB",
            "--concurrency",
            String(concurrency)
          ]
          const env = H.cosEnv(path.join(dir, "cache"))
          const first = H.startCos(args, dir, env)
          const firstRun = H.collect(first)
          let exited = false
          void firstRun.then(() => (exited = true))
          let ackBefore = 0
          const started = Date.now()
          while (!exited) {
            ackBefore = (await H.listedBytes(emulator.port, target)) ?? ackBefore
            if (early ? Date.now() - started >= killAfterMs : ackBefore >= killAt) {
              first.kill("SIGKILL")
              break
            }
            await H.sleep(2)
          }
          const killed = await firstRun
          assert.strictEqual(killed.signal, "SIGKILL", `run ${run}: the upload ended before the kill: ${killed.stderr}`)
          const listed = await H.listedBytes(emulator.port, target)
          const ackAfterKill = listed ?? 0
          assert.isAtLeast(ackAfterKill, ackBefore)
          assert.isBelow(ackAfterKill, size, `run ${run}: nothing left to resume`)

          const rerun = await H.collect(H.startCos(args, dir, env))
          assert.strictEqual(rerun.code, 0, `run ${run}: ${rerun.stderr}`)
          // secrets never printed, crash or not
          for (const text of [killed.stdout, killed.stderr, rerun.stdout, rerun.stderr]) {
            assert.notInclude(text, H.secretKey)
          }
          const receipt = JSON.parse(rerun.stdout)
          assert.strictEqual(receipt.sha1, sha)
          assert.strictEqual(receipt.fileSize, size)
          if (ackAfterKill > 0) assert.isTrue(receipt.resumed, `run ${run}: the rerun did not resume`)
          const db = H.readDb(dataDir)
          assert.strictEqual(H.storedSha(dataDir, db, target), sha, `run ${run}: stored bytes differ from the source`)
          // bytes sent again: the rerun's bytes beyond what was missing when the client was killed
          const resent = receipt.bytesSent - (size - ackBefore)
          assert.isAtMost(resent, concurrency * slice, `run ${run}: re-sent ${resent} bytes`)
          assert.isAtLeast(receipt.bytesSkipped, ackBefore)
          figures.push({
            run,
            early: early ? 1 : 0,
            concurrency,
            ackBefore,
            ackAfterKill,
            bytesSent: receipt.bytesSent,
            resent
          })
          fs.rmSync(file)
        }
        H.report(`client crashes (${RUNS}, ${slices} slices of 512 KiB): ${JSON.stringify(figures)}`)
      } finally {
        proxy.close()
        await emulator.stop()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
    300_000
  )
})
