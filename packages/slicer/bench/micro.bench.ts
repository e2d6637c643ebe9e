// Per-operation CPU cost of a few Effect patterns (µs per element, c = 4), against a tick-resolved async op.
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"

const N = 20000
const tick = Effect.async<number>((resume) => {
  setImmediate(() => resume(Effect.succeed(1)))
})
const cases: Record<string, () => Effect.Effect<unknown>> = {
  "forEach c4 (tick)": () =>
    Effect.forEach(Array.from({ length: N }, (_, i) => i), () => tick, { concurrency: 4, discard: true }),
  "4 workers loop (tick)": () => {
    let next = 0
    const worker: Effect.Effect<void> = Effect.suspend(() =>
      next++ < N ? Effect.flatMap(tick, () => worker) : Effect.void
    )
    return Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true })
  },
  "4 workers + timeoutFail": () => {
    let next = 0
    const t = Effect.timeoutFail(tick, { duration: "2 minutes", onTimeout: () => "x" })
    const worker: Effect.Effect<void, string> = Effect.suspend(() =>
      next++ < N ? Effect.flatMap(t, () => worker) : Effect.void
    )
    return Effect.orDie(Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true }))
  },
  "4 workers + either": () => {
    let next = 0
    const worker: Effect.Effect<void> = Effect.suspend(() =>
      next++ < N ? Effect.flatMap(Effect.either(tick), () => worker) : Effect.void
    )
    return Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true })
  },
  "4 workers + gen": () => {
    let next = 0
    const worker: Effect.Effect<void> = Effect.suspend(() =>
      next++ < N
        ? Effect.flatMap(
          Effect.gen(function*() {
            const a = yield* tick
            return a
          }),
          () => worker
        )
        : Effect.void
    )
    return Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true })
  },
  "4 workers + sem lock": () => {
    let next = 0
    return Effect.flatMap(Effect.makeSemaphore(1), (sem) => {
      const worker: Effect.Effect<void> = Effect.suspend(() =>
        next++ < N
          ? Effect.flatMap(sem.withPermits(1)(Effect.void), () => Effect.flatMap(tick, () => worker))
          : Effect.void
      )
      return Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true })
    })
  },
  "4 workers + queue take/offer": () => {
    let next = 0
    return Effect.flatMap(Queue.bounded<number>(5), (q) =>
      Effect.flatMap(Queue.offerAll(q, [1, 2, 3, 4, 5]), () => {
        const worker: Effect.Effect<void> = Effect.suspend(() =>
          next++ < N
            ? Effect.flatMap(
              Effect.acquireUseRelease(Queue.take(q), () => tick, (b) => Queue.offer(q, b)),
              () => worker
            )
            : Effect.void
        )
        return Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true })
      }))
  },
  "4 workers + deferred make/succeed/await": () => {
    let next = 0
    const worker: Effect.Effect<void> = Effect.suspend(() =>
      next++ < N
        ? Effect.flatMap(
          Deferred.make<void>(),
          (d) =>
            Effect.flatMap(Deferred.succeed(d, undefined), () =>
              Effect.flatMap(Deferred.await(d), () => Effect.flatMap(tick, () => worker)))
        )
        : Effect.void
    )
    return Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true })
  },
  "4 workers + tryPromise": () => {
    let next = 0
    const p = Effect.tryPromise({ try: () => new Promise<number>((r) => setImmediate(() => r(1))), catch: () => "x" })
    const worker: Effect.Effect<void, string> = Effect.suspend(() =>
      next++ < N ? Effect.flatMap(p, () => worker) : Effect.void
    )
    return Effect.orDie(Effect.all([worker, worker, worker, worker], { concurrency: 4, discard: true }))
  }
}
const main = async () => {
  const res: Record<string, Array<number>> = {}
  for (let round = 0; round < 4; round++) {
    for (const [name, mk] of Object.entries(cases)) {
      const c0 = process.cpuUsage()
      await Effect.runPromise(mk())
      const c = process.cpuUsage(c0)
      ;(res[name] ??= []).push((c.user + c.system) / N)
    }
  }
  for (const [name, xs] of Object.entries(res)) {
    xs.shift()
    xs.sort((a, b) => a - b)
    console.log(`${name.padEnd(42)} min ${xs[0]!.toFixed(1)}  med ${xs[1]!.toFixed(1)} µs`)
  }
}
main()
