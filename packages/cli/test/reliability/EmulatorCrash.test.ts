// Issue 7 item 3: a real emulator process is killed with SIGKILL during concurrent uploads and restarted on the
// same data directory. CI: 3 runs; COS_RELIABILITY_FULL=1: 10 runs (docs/reliability.md).
import * as NodeCos from "@cos-v4/node/NodeCos"
import * as Uploader from "@cos-v4/slicer/Uploader"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as fs from "node:fs"
import * as path from "node:path"
import * as H from "./harness.js"

const RUNS = H.count(3, 10)
const UPLOADS = 4
const slice = 512 * 1024
// one simple upload (< 8 MiB) and three sliced ones of different lengths
const sizes = [H.MiB + 1, 9 * H.MiB + 777, 12 * H.MiB, 16 * H.MiB + 3]

const upload = (endpoint: string, checkpointDir: string, file: string, target: string) =>
  Effect.runPromise(
    Uploader.uploadFile(file, target, {
      sliceSize: slice,
      concurrency: 2,
      stallTimeout: "5 seconds",
      requestTimeout: "20 seconds",
      // ~12 s of retries at most: enough to ride out the restart, not enough to hide a hang
      retrySchedule: Schedule.spaced("200 millis").pipe(Schedule.intersect(Schedule.recurs(60)))
    }).pipe(
      Effect.provide(NodeCos.layer({
        endpoint,
        appId: H.appId,
        bucket: H.bucket,
        credentials: { secretId: H.secretId, secretKey: Redacted.make(H.secretKey) },
        checkpointDir
      })),
      Effect.either
    )
  )

describe("reliability: emulator crashes (SIGKILL of the emulator process)", () => {
  it(`${RUNS} runs: finished files intact, unfinished uploads resume, integrity ok, no orphans`, async () => {
    const dir = H.tempDir("emulator-crash")
    const dataDir = path.join(dir, "data")
    const checkpoints = path.join(dir, "checkpoints")
    let emulator = await H.startEmulator(dataDir)
    const port = emulator.port
    // 32 MiB/s to the emulator, through a proxy that outlives the emulator's restarts
    const proxy = await H.throttle(port, 32 * H.MiB)
    const endpoint = `http://127.0.0.1:${proxy.port}`
    const rand = H.prng(3 * 1000 + RUNS)
    const expected = new Map<string, string>() // cos path → sha of every file that completed
    const figures: Array<Record<string, number>> = []
    try {
      for (let run = 0; run < RUNS; run++) {
        const sources = Array.from({ length: UPLOADS }, (_, i) => {
          const file = path.join(dir, `r${run}-${i}.bin`)
          return { file, target: `/crash/r${run}/f${i}.bin`, sha: H.writeRandom(file, sizes[i]!) }
        })
        const finishedBeforeKill = new Set<string>()
        const pending = sources.map((s) =>
          upload(endpoint, checkpoints, s.file, s.target).then((r) => {
            if (Either.isRight(r) && !killed) finishedBeforeKill.add(s.target)
            return r
          })
        )
        let killed = false
        const killAfter = 300 + rand(1200)
        await H.sleep(killAfter)
        // the sessions of the uploads under way: after the restart they must be continued, not restarted
        const sessions = await Promise.all(sources.map((s) => H.listedSession(emulator.port, s.target)))
        await emulator.kill()
        killed = true
        const down = rand(600)
        await H.sleep(down)
        emulator = await H.startEmulator(dataDir, { port })

        // files finished before the kill are intact after the restart
        for (const target of finishedBeforeKill) {
          const s = sources.find((x) => x.target === target)!
          expected.set(target, s.sha)
        }
        const results = await Promise.all(pending)
        let reruns = 0
        let continued = 0
        for (let i = 0; i < UPLOADS; i++) {
          const s = sources[i]!
          let r = results[i]!
          // an upload whose retry budget ran out during the outage is rerun: it resumes
          while (Either.isLeft(r) && reruns < 2 * UPLOADS) {
            reruns++
            r = await upload(endpoint, checkpoints, s.file, s.target)
          }
          assert.isTrue(Either.isRight(r), `run ${run} ${s.target}: ${Either.isLeft(r) ? r.left.message : ""}`)
          if (Either.isRight(r)) {
            assert.strictEqual(r.right.sha1, s.sha)
            const before = sessions[i]
            if (before !== undefined && !finishedBeforeKill.has(s.target)) {
              assert.strictEqual(r.right.session, before, `${s.target} restarted instead of resuming`)
              continued++
            }
          }
          expected.set(s.target, s.sha)
        }
        const db = H.readDb(dataDir)
        assert.strictEqual(db.integrity, "ok", `run ${run}`)
        for (const [target, sha] of expected) {
          assert.strictEqual(H.storedSha(dataDir, db, target), sha, `run ${run}: ${target} corrupt or missing`)
          const o = db.objects.find((x) => x.path === target)!
          assert.strictEqual(o.sha, sha)
        }
        figures.push({
          run,
          killAfter,
          down,
          finishedBeforeKill: finishedBeforeKill.size,
          unfinishedAtKill: UPLOADS - finishedBeforeKill.size,
          sameSessionAfterRestart: continued,
          reruns
        })
        for (const s of sources) fs.rmSync(s.file)
      }
      // everything finished: no session left, no file the database does not know, none it misses
      const db = H.readDb(dataDir)
      assert.strictEqual(db.integrity, "ok")
      assert.deepStrictEqual(db.sessions, [])
      assert.deepStrictEqual(H.orphans(dataDir, db), {
        unreferencedObjects: [],
        missingObjects: [],
        unreferencedSessions: [],
        missingSessions: []
      })
      // the runs exercised both kinds: files finished before a kill, and uploads cut by one
      assert.isAbove(figures.reduce((n, f) => n + f.finishedBeforeKill!, 0), 0)
      assert.isAbove(figures.reduce((n, f) => n + f.unfinishedAtKill!, 0), 0)
      H.report(`emulator crashes (${RUNS} runs × ${UPLOADS} uploads): ${JSON.stringify(figures)}`)
    } finally {
      proxy.close()
      await emulator.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)
})
