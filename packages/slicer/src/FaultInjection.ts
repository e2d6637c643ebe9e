/**
 * Scripted transport faults for tests: a wrapper around any `HttpClient` (the in-memory `MemoryServer`'s or a
 * real one) that answers chosen requests with a server code, an HTTP status, a connection reset, a stall, a
 * delay, a duplicated or a reordered acknowledgement. Rules match requests by op, path, slice offset, their
 * rank among the matching requests (`nth`) or their global index (`request`). Every wait is an `Effect.sleep`
 * (or `Effect.never`), so schedules run in virtual time under `TestClock`.
 *
 * ```ts
 * const injector = FaultInjection.unsafeMake([
 *   { op: "upload_slice_data", offset: 1024, fault: FaultInjection.reset({ reached: true }) },
 *   { op: "upload_slice_init", nth: 2, fault: FaultInjection.uploadNotFinished }
 * ])
 * const server = MemoryServer.unsafeMake()
 * const services = MemoryServer.layerServices(server, undefined, undefined, injector.wrap(server.client))
 * ```
 *
 * `random({ seed, rates })` draws a reproducible list of rules from a seed (effect's seeded `Random`).
 *
 * @since 0.1.0
 */
import type * as CosError from "@cos-v4/core/CosError"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/faultInjection.js"

/**
 * What happens to a request. `reached` says whether the request is delivered to the server (which acts on
 * it) before the fault replaces or loses its answer.
 *
 * - `Code`: an envelope with the reason's code (e.g. `AuthExpired`, `UploadNotFinished` = -4019).
 * - `Status`: an HTTP status, with a body when given (a JSON text, or anything else).
 * - `Reset`: the connection is reset (`ECONNRESET`) after `afterBytes` bytes of the body were sent (they are
 *   delivered as a streamed body that then fails: the server sees a truncated request); with `reached` the
 *   server got the whole request and only the answer is lost.
 * - `Stall`: nothing happens for `duration` (forever when absent), then the request is delivered.
 * - `StallBody`: status 200 and headers arrive, the body never does.
 * - `Delay`: the server answers at once, the answer arrives `duration` later.
 * - `Duplicate`: the request is delivered twice; the client sees the second answer.
 * - `Reorder`: the answer is held until another answer is delivered (or `hold` passed): acknowledgements
 *   arrive out of order.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | {
    readonly _tag: "Code"
    readonly reason: Exclude<CosError.ServerReason, "Unknown">
    readonly reached: boolean
  }
  | { readonly _tag: "Status"; readonly status: number; readonly body?: string; readonly reached: boolean }
  | { readonly _tag: "Reset"; readonly afterBytes: number; readonly reached: boolean }
  | { readonly _tag: "Stall"; readonly duration?: Duration.DurationInput }
  | { readonly _tag: "StallBody" }
  | { readonly _tag: "Delay"; readonly duration: Duration.DurationInput }
  | { readonly _tag: "Duplicate" }
  | { readonly _tag: "Reorder"; readonly hold: Duration.DurationInput }

/**
 * When a fault applies. All given conditions must hold. `nth` (default 1) is the rank, among the requests
 * this rule matches, of the first one faulted; `times` (default 1, may be `Infinity`) how many matching
 * requests from there on are faulted. `request` is the 0-based index of the request among all requests
 * through the injector. The first rule that fires wins.
 *
 * @since 0.1.0
 * @category models
 */
export interface Rule {
  readonly op?: string | ReadonlyArray<string>
  readonly path?: string
  readonly offset?: number
  readonly request?: number
  readonly nth?: number
  readonly times?: number
  readonly fault: Fault
}

/**
 * What a rule sees of a request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Target {
  readonly index: number
  readonly op: string
  readonly path: string
  readonly offset: number | undefined
}

/**
 * A fault that was applied.
 *
 * @since 0.1.0
 * @category models
 */
export interface Injected extends Target {
  readonly fault: Fault
}

/**
 * An injector: `wrap` a client with it; `injected` lists the faults applied; `inFlight` counts requests
 * through it not yet answered or abandoned (0 once an upload ended cleanly).
 *
 * @since 0.1.0
 * @category models
 */
export interface Injector {
  readonly wrap: (client: HttpClient.HttpClient) => HttpClient.HttpClient
  readonly injected: ReadonlyArray<Injected>
  readonly requests: number
  readonly delivered: number
  inFlight: number
}

/**
 * The injector provided by `layer`.
 *
 * @since 0.1.0
 * @category tags
 */
export class FaultInjection extends Context.Tag("@cos-v4/slicer/FaultInjection")<FaultInjection, Injector>() {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake: (rules: ReadonlyArray<Rule>) => Injector = internal.make

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (rules: ReadonlyArray<Rule>): Effect.Effect<Injector> => Effect.sync(() => internal.make(rules))

/**
 * Replaces the `HttpClient` of the context with one going through a new injector (also provided as
 * `FaultInjection`). Use `Layer.provide(theRealClientLayer)` under it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  rules: ReadonlyArray<Rule>
): Layer.Layer<FaultInjection | HttpClient.HttpClient, never, HttpClient.HttpClient> =>
  Layer.effectContext(Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const injector = internal.make(rules)
    return Context.make(FaultInjection, injector).pipe(Context.add(HttpClient.HttpClient, injector.wrap(client)))
  }))

/**
 * An envelope answer with the reason's code.
 *
 * @since 0.1.0
 * @category faults
 */
export const code = (
  reason: Exclude<CosError.ServerReason, "Unknown">,
  options?: { readonly reached?: boolean }
): Fault => ({ _tag: "Code", reason, reached: options?.reached ?? false })

/**
 * An HTTP status, with or without a body.
 *
 * @since 0.1.0
 * @category faults
 */
export const status = (
  status: number,
  options?: { readonly body?: string; readonly reached?: boolean }
): Fault =>
  options?.body === undefined
    ? { _tag: "Status", status, reached: options?.reached ?? false }
    : { _tag: "Status", status, body: options.body, reached: options.reached ?? false }

/**
 * A connection reset after `afterBytes` (default 0) bytes; `reached` (default false): the server got the request.
 *
 * @since 0.1.0
 * @category faults
 */
export const reset = (options?: { readonly afterBytes?: number; readonly reached?: boolean }): Fault => ({
  _tag: "Reset",
  afterBytes: options?.afterBytes ?? 0,
  reached: options?.reached ?? false
})

/**
 * Nothing happens, forever or for `duration` (then the request goes through).
 *
 * @since 0.1.0
 * @category faults
 */
export const stall = (duration?: Duration.DurationInput): Fault =>
  duration === undefined ? { _tag: "Stall" } : { _tag: "Stall", duration }

/**
 * Headers arrive, the body never does.
 *
 * @since 0.1.0
 * @category faults
 */
export const stallBody: Fault = { _tag: "StallBody" }

/**
 * The answer arrives `duration` after the server produced it.
 *
 * @since 0.1.0
 * @category faults
 */
export const delay = (duration: Duration.DurationInput): Fault => ({ _tag: "Delay", duration })

/**
 * The request is delivered twice.
 *
 * @since 0.1.0
 * @category faults
 */
export const duplicate: Fault = { _tag: "Duplicate" }

/**
 * The answer is held until another one was delivered, at most `hold`.
 *
 * @since 0.1.0
 * @category faults
 */
export const reorder = (hold: Duration.DurationInput): Fault => ({ _tag: "Reorder", hold })

/**
 * The signature has expired: `AuthExpired` (-5902).
 *
 * @since 0.1.0
 * @category faults
 */
export const expireSignature: Fault = { _tag: "Code", reason: "AuthExpired", reached: false }

/**
 * An unfinished upload exists: `UploadNotFinished` (-4019), the answer to an init racing another one.
 *
 * @since 0.1.0
 * @category faults
 */
export const uploadNotFinished: Fault = { _tag: "Code", reason: "UploadNotFinished", reached: false }

/**
 * Options of `random`: per-request probabilities of each kind of fault (summing to at most 1), the number
 * of requests the schedule covers (default 64) and the longest stall, delay or hold (default 60 s).
 *
 * @since 0.1.0
 * @category models
 */
export interface RandomOptions {
  readonly seed: number | string
  readonly rates: {
    readonly retryableCode?: number
    readonly terminalCode?: number
    readonly status?: number
    readonly reset?: number
    readonly stall?: number
    readonly stallBody?: number
    readonly delay?: number
    readonly duplicate?: number
    readonly reorder?: number
    readonly expireSignature?: number
    readonly initNotFinished?: number
  }
  readonly requests?: number
  readonly maxStall?: Duration.DurationInput
}

/**
 * Draws a schedule of rules from a seed: the same seed and options give the same rules. Each of the first
 * `requests` requests gets at most one fault; `initNotFinished` adds (at most once) a `-4019` answer to the 1st, 2nd or 3rd init.
 *
 * @since 0.1.0
 * @category constructors
 */
export const random: (options: RandomOptions) => Effect.Effect<ReadonlyArray<Rule>> = internal.random
