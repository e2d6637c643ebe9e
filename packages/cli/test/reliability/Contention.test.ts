// Issue 7 item 5: many concurrent uploads to distinct paths, and uploads racing to one path, against a real
// emulator process. CI: 20 distinct + 3 races of 5; COS_RELIABILITY_FULL=1: 50 distinct (docs/reliability.md).
import type * as CosError from "@cos-v4/core/CosError"
import * as NodeCos from "@cos-v4/node/NodeCos"
import * as Uploader from "@cos-v4/slicer/Uploader"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as path from "node:path"
import * as H from "./harness.js"

const DISTINCT = H.count(20, 50)
const RACERS = 5

const cosErrorTags = new Set([
  "UploadFailed",
  "ServerError",
  "SourceError",
  "TransportError",
  "HttpStatusError",
  "ProtocolError",
  "InvalidArgument",
  "CheckpointError",
  "SigningError"
])

describe("reliability: contention", () => {
  it(`${DISTINCT} concurrent uploads to distinct paths, and ${RACERS} racing to the same path`, async () => {
    const dir = H.tempDir("contention")
    const dataDir = path.join(dir, "data")
    const emulator = await H.startEmulator(dataDir)
    // `client` names the checkpoint directory: racers with different ones are different machines (they race at the
    // server); uploads sharing one are serialised by the checkpoint lock (the loser gets CheckpointError Locked)
    const layer = (client: string) =>
      NodeCos.layer({
        endpoint: emulator.url,
        appId: H.appId,
        bucket: H.bucket,
        credentials: { secretId: H.secretId, secretKey: Redacted.make(H.secretKey) },
        checkpointDir: path.join(dir, "checkpoints", client),
        concurrency: 2
      })
    const upload = (file: string, target: string, overwrite = false, client = "main") =>
      Effect.runPromise(
        Uploader.uploadFile(file, target, { sliceSize: 512 * 1024, concurrency: 2, overwrite }).pipe(
          Effect.provide(layer(client)),
          Effect.either
        )
      )
    const rand = H.prng(5 * 1000 + DISTINCT)
    try {
      // distinct paths: simple and sliced uploads, all at once
      const distinct = Array.from({ length: DISTINCT }, (_, i) => {
        const file = path.join(dir, `d${i}.bin`)
        const size = 1 + rand(12 * H.MiB)
        return { file, target: `/many/${i}/f.bin`, sha: H.writeRandom(file, size) }
      })
      const results = await Promise.all(distinct.map((d) => upload(d.file, d.target)))
      results.forEach((r, i) => {
        assert.isTrue(Either.isRight(r), `${distinct[i]!.target}: ${Either.isLeft(r) ? r.left.message : ""}`)
        if (Either.isRight(r)) assert.strictEqual(r.right.sha1, distinct[i]!.sha)
      })

      const outcomes: Record<string, unknown> = {}
      // races: different contents, insertOnly (exactly one wins); different contents with overwrite (the result
      // is exactly one of them, never a mix); the same content (all succeed: they join one session or get an
      // instant upload)
      for (const race of ["insert-only", "overwrite", "same-content"] as const) {
        const target = `/race/${race}.bin`
        const size = 6 * H.MiB + rand(4 * H.MiB) // sliced (> 8 MiB after the first) or simple: both race
        const racers = Array.from({ length: RACERS }, (_, i) => {
          const file = path.join(dir, `${race}-${i}.bin`)
          if (race === "same-content" && i > 0) fs.copyFileSync(path.join(dir, `${race}-0.bin`), file)
          else H.writeRandom(file, size + (race === "same-content" ? 0 : 3 * H.MiB))
          return { file, sha: H.sha1(fs.readFileSync(file)) }
        })
        const rs = await Promise.all(racers.map((r, i) => upload(r.file, target, race === "overwrite", `client-${i}`)))
        const winners = rs.flatMap((r, i) => (Either.isRight(r) ? [i] : []))
        const errors = rs.flatMap((r) => (Either.isLeft(r) ? [r.left as CosError.CosError] : []))
        for (const e of errors) assert.isTrue(cosErrorTags.has(e._tag), `untyped error ${String(e)}`)
        const db = H.readDb(dataDir)
        const stored = H.storedSha(dataDir, db, target)
        if (race === "insert-only") {
          assert.strictEqual(winners.length, 1, `insert-only: ${winners.length} winners`)
          assert.strictEqual(stored, racers[winners[0]!]!.sha)
        } else if (race === "overwrite") {
          assert.isAtLeast(winners.length, 1)
          // the stored file is one racer's content, whole
          assert.include(winners.map((i) => racers[i]!.sha), stored)
        } else {
          assert.strictEqual(winners.length, RACERS, errors.map((e) => e.message).join("; "))
          assert.strictEqual(stored, racers[0]!.sha)
        }
        outcomes[race] = {
          winners: winners.length,
          errors: errors.map((e) =>
            `${e._tag}${"reason" in e ? `/${String(e.reason)}` : ""}${
              e._tag === "UploadFailed" ? ` (${e.failures.at(-1)?.tag}/${e.failures.at(-1)?.reason})` : ""
            }`
          )
        }
      }

      // nothing corrupt: every distinct file intact, database sound, no session left, no orphan blob
      const db = H.readDb(dataDir)
      assert.strictEqual(db.integrity, "ok")
      for (const d of distinct) assert.strictEqual(H.storedSha(dataDir, db, d.target), d.sha, d.target)
      const o = H.orphans(dataDir, db)
      assert.deepStrictEqual(o.unreferencedObjects, [])
      assert.deepStrictEqual(o.missingObjects, [])
      H.report(
        `contention (${DISTINCT} distinct, races of ${RACERS}): ${
          JSON.stringify(outcomes)
        }; sessions left ${db.sessions.length}`
      )
    } finally {
      await emulator.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)
})
