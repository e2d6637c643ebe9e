// Issue 7 item 1: generated fault schedules against the uploader over the in-memory server, in virtual time.
// CI runs 100 schedules; COS_RELIABILITY_FULL=1 runs 500 (see docs/reliability.md).
import type * as CosError from "@cos-v4/core/CosError"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as TestClock from "effect/TestClock"
import * as fs from "node:fs"
import * as FaultInjection from "../../src/FaultInjection.js"
import * as MemoryServer from "../../src/MemoryServer.js"
import * as Uploader from "../../src/Uploader.js"
import type { UploadEvent } from "../../src/UploadEvent.js"
import type { UploadReceipt } from "../../src/UploadReceipt.js"
import * as UploadSource from "../../src/UploadSource.js"
import * as Fake from "../fakeServer.js"

const full = process.env.COS_RELIABILITY_FULL === "1"
const RUNS = Number(process.env.COS_RELIABILITY_SCHEDULES ?? (full ? 500 : 100))
const S = 1024

const profiles: ReadonlyArray<FaultInjection.RandomOptions["rates"]> = [
  // transient faults only: the upload is expected to complete
  { retryableCode: 0.05, status: 0.05, reset: 0.06, stall: 0.04, stallBody: 0.02, delay: 0.05, duplicate: 0.05 },
  // everything, terminal codes included
  {
    retryableCode: 0.04,
    terminalCode: 0.01,
    status: 0.04,
    reset: 0.05,
    stall: 0.03,
    stallBody: 0.02,
    delay: 0.04,
    duplicate: 0.04,
    reorder: 0.06,
    expireSignature: 0.04,
    initNotFinished: 0.05
  },
  // a storm: budgets get exhausted
  { retryableCode: 0.15, status: 0.1, reset: 0.15, stall: 0.1, reorder: 0.05 },
  // acknowledgement games
  { duplicate: 0.2, reorder: 0.25, delay: 0.1, expireSignature: 0.05 }
]

const Params = FastCheck.record({
  seed: FastCheck.integer({ min: 0, max: 2 ** 31 - 1 }),
  slices: FastCheck.integer({ min: 1, max: 9 }),
  tail: FastCheck.integer({ min: 0, max: S - 1 }),
  concurrency: FastCheck.integer({ min: 1, max: 4 }),
  integrity: FastCheck.constantFrom("sha-at-init" as const, "inline" as const),
  profile: FastCheck.integer({ min: 0, max: profiles.length - 1 }),
  verifySignatures: FastCheck.boolean()
})
type Params = typeof Params extends FastCheck.Arbitrary<infer A> ? A : never

interface Outcome {
  readonly exit: Exit.Exit<UploadReceipt, CosError.CosError>
  readonly events: ReadonlyArray<UploadEvent>
  readonly leftFibers: number
  readonly steps: number
}

/** Runs one schedule to its end in virtual time; a run that never ends within `maxSteps` is a hang. */
const runOne = (p: Params, server: MemoryServer.Server, injector: FaultInjection.Injector, data: Uint8Array) =>
  Effect.gen(function*() {
    const events: Array<UploadEvent> = []
    const supervisor = yield* Supervisor.track
    const upload = Uploader.uploadWithProgress(UploadSource.fromUint8Array(data), "/f.bin", {
      sliceSize: S,
      simpleUploadThreshold: 0,
      concurrency: p.concurrency,
      integrity: p.integrity,
      stallTimeout: "5 seconds",
      requestTimeout: "20 seconds",
      retrySchedule: Schedule.exponential("100 millis").pipe(Schedule.intersect(Schedule.recurs(6))),
      bufferSize: 100_000
    }).pipe(
      Stream.runForEach((e) => Effect.sync(() => events.push(e))),
      Effect.flatMap(() => {
        const last = events.at(-1)
        return last?._tag === "Completed" ? Effect.succeed(last.receipt) : Effect.dieMessage("no Completed event")
      }),
      Effect.provide(MemoryServer.layerServices(server, undefined, undefined, injector.wrap(server.client))),
      Effect.supervised(supervisor)
    )
    const fiber = yield* Effect.fork(upload)
    let steps = 0
    let exit: Option.Option<Exit.Exit<UploadReceipt, CosError.CosError>> = Option.none()
    for (; steps < 20_000; steps++) {
      for (let k = 0; k < 5; k++) yield* Effect.yieldNow()
      exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) break
      // jump to the next pending timer (virtual time: no real waiting)
      const sleeps = yield* TestClock.sleeps()
      const now = yield* TestClock.currentTimeMillis
      const next = Chunk.reduce(sleeps, Infinity, (a, b) => Math.min(a, b))
      yield* TestClock.adjust(Number.isFinite(next) ? Math.max(1, next - now) : 1000)
    }
    if (Option.isNone(exit)) {
      yield* Fiber.interrupt(fiber)
      return assert.fail(`upload hung: ${JSON.stringify(p)}`)
    }
    // fibers the upload forked that are still alive once it ended
    const left = (yield* supervisor.value).filter((f) => f.unsafePoll() === null)
    return { exit: exit.value, events, leftFibers: left.length, steps } satisfies Outcome
  })

const violations: Array<string> = []
const summary = { completed: 0, retriesExhausted: 0, terminal: 0, faults: 0, requests: 0 }

describe("reliability: generated fault schedules (virtual time)", () => {
  it.effect(
    `${RUNS} schedules: complete intact or fail terminally; progress monotone; memory bounded; no fiber left`,
    () =>
      Effect.gen(function*() {
        const samples = FastCheck.sample(Params, { seed: 20261125, numRuns: RUNS })
        for (const p of samples) {
          const ctx = JSON.stringify(p)
          const data = Fake.bytes(p.slices * S + p.tail, p.seed % 251)
          const rules = yield* FaultInjection.random({
            seed: p.seed,
            rates: profiles[p.profile]!,
            requests: 48,
            maxStall: "30 seconds"
          })
          const server = MemoryServer.unsafeMake({ verifySignatures: p.verifySignatures })
          const injector = FaultInjection.unsafeMake(rules)
          const { events, exit, leftFibers } = yield* runOne(p, server, injector, data)
          summary.faults += injector.injected.length
          summary.requests += injector.requests

          // acknowledged progress never decreases
          let acked = 0
          for (const e of events) {
            if (e._tag === "SliceAcknowledged" || e._tag === "Finishing") {
              assert.isAtLeast(e.bytesAcknowledged, acked, `progress decreased: ${ctx}`)
              acked = e.bytesAcknowledged
            }
          }
          // no fiber left running, no request left in flight
          assert.strictEqual(leftFibers, 0, `fibers left running: ${ctx}`)
          assert.strictEqual(injector.inFlight, 0, `requests left in flight: ${ctx}`)
          assert.strictEqual(server.inFlight, 0, `server requests left in flight: ${ctx}`)

          if (Exit.isSuccess(exit)) {
            summary.completed++
            const stored = server.files.get("/f.bin")
            assert.isDefined(stored, ctx)
            assert.isTrue(Buffer.from(stored!.bytes).equals(Buffer.from(data)), `stored bytes differ: ${ctx}`)
            assert.strictEqual(exit.value.sha1, Fake.sha1Hex(data), ctx)
            // buffered bytes bounded: at most concurrency + 1 slice buffers, ever
            assert.isAtMost(exit.value.buffers.count, p.concurrency + 1, ctx)
            assert.isAtMost(exit.value.buffers.peakInUse, p.concurrency + 1, ctx)
            assert.isAtMost(exit.value.buffers.size, S + 1024 + 64, ctx)
          } else {
            const error = Option.getOrUndefined(
              Exit.causeOption(exit).pipe(
                Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined))
              )
            )
            assert.isDefined(error, `not a typed failure: ${ctx} ${String(exit.cause)}`)
            assert.strictEqual(error!._tag, "UploadFailed", `${ctx} ${String(error)}`)
            const failed = error as CosError.UploadFailed
            // the file is either absent or (never) corrupt
            const stored = server.files.get("/f.bin")
            if (stored !== undefined) assert.isTrue(Buffer.from(stored.bytes).equals(Buffer.from(data)), ctx)
            if (failed.reason === "RetriesExhausted") {
              summary.retriesExhausted++
              assert.isAbove(failed.failures.length, 6, `budget not exhausted: ${ctx}`)
            } else {
              summary.terminal++
              assert.strictEqual(failed.reason, "Terminal", ctx)
              const last = failed.failures.at(-1)
              assert.isDefined(last, ctx)
              if (!["never", "resign"].includes(last!.recovery)) {
                violations.push(
                  `${ctx} last=${JSON.stringify(last)} stored=${server.files.has("/f.bin")} injected=${
                    JSON.stringify(injector.injected.slice(-2))
                  }`
                )
              }
            }
            assert.isAtMost(failed.acknowledgedBytes, data.length, ctx)
          }
        }
        assert.deepStrictEqual(violations, [])
        // the generator must exercise both outcomes, or the test proves little
        assert.isAbove(summary.completed, RUNS / 4)
        assert.isAbove(summary.retriesExhausted + summary.terminal, 0)
        const line = `fault schedules (${RUNS}): ${JSON.stringify(summary)}`
        process.stdout.write(`${line}\n`)
        if (process.env.COS_RELIABILITY_REPORT) fs.appendFileSync(process.env.COS_RELIABILITY_REPORT, `${line}\n`)
      }),
    { timeout: 600_000 }
  )
})
