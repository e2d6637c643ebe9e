/**
 * The live progress display of `cos upload`: a terminal bar (cli-progress) with bytes, percent, rate and ETA,
 * and a visible note while the upload is hashing, retrying or stalled. Without a terminal it prints a plain
 * line at each quarter and at each retry, on stderr, so stdout stays free for `--json`.
 *
 * @since 0.1.0
 */
import type * as UploadEvent from "@cos-v4/slicer/UploadEvent"
import * as cliProgress from "cli-progress"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/**
 * Formats a byte count with binary units.
 *
 * @since 0.1.0
 * @category formatting
 */
export const bytes = (n: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`
}

/**
 * A progress display: feed it every event; it is closed with its scope.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProgressDisplay {
  readonly onEvent: (event: UploadEvent.UploadEvent) => Effect.Effect<void>
}

/**
 * Creates the display for an upload of `label`, writing to stderr.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (label: string, options: { readonly quiet: boolean }): Effect.Effect<
  ProgressDisplay,
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    if (options.quiet) return { onEvent: () => Effect.void }
    const tty = process.stderr.isTTY === true
    const bar = new cliProgress.SingleBar({
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {done}/{size} | {speed} | ETA {eta_formatted} {note}`,
      barCompleteChar: "█",
      barIncompleteChar: "░",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 64,
      fps: 10
    })
    let started = false
    let startedAt = 0
    let total = 0
    let lastQuarter = -1
    const line = (text: string) => Effect.sync(() => process.stderr.write(`${text}\n`))
    const payload = (done: number, note: string) => {
      const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001)
      return { done: bytes(done), size: bytes(total), speed: `${bytes(done / seconds)}/s`, note }
    }
    const update = (done: number, note: string) =>
      Effect.sync(() => {
        if (tty) {
          if (!started) {
            bar.start(Math.max(total, 1), 0, payload(0, note))
            started = true
          }
          bar.update(total === 0 ? 1 : done, payload(done, note))
        } else if (total > 0) {
          const quarter = Math.floor((done / total) * 4)
          if (quarter > lastQuarter) {
            lastQuarter = quarter
            process.stderr.write(`${label}: ${Math.floor((done / total) * 100)}% (${bytes(done)}/${bytes(total)})\n`)
          }
        }
      })
    yield* Effect.addFinalizer(() => Effect.sync(() => started && bar.stop()))
    const onEvent = (event: UploadEvent.UploadEvent): Effect.Effect<void> => {
      switch (event._tag) {
        case "Hashing":
          total = event.totalBytes
          if (startedAt === 0) startedAt = Date.now()
          return tty ? update(0, `hashing ${Math.floor((event.bytesHashed / Math.max(total, 1)) * 100)}%`) : Effect.void
        case "Initialised":
          total = event.totalBytes
          startedAt = Date.now()
          return update(0, event.simple ? "simple upload" : `${event.sliceCount} slices × ${bytes(event.sliceSize)}`)
        case "Resumed":
          return Effect.zipRight(
            tty ? Effect.void : line(`${label}: resuming session, ${bytes(event.skippedBytes)} already on the server`),
            update(event.skippedBytes, `resumed: ${bytes(event.skippedBytes)} already there`)
          )
        case "SliceSent":
          return Effect.void
        case "SliceAcknowledged":
          total = event.totalBytes
          // the bar reaches its end only at Completed (UploadEvent.percent)
          return update(Math.min(event.bytesAcknowledged, Math.max(total - 1, 0)), "")
        case "Retrying": {
          const note = `retrying ${event.op}${
            event.offset === undefined ? "" : ` @${event.offset}`
          } (attempt ${event.attempt}, in ${Duration.format(event.delay)}): ${event.error._tag}/${event.error.reason}`
          return tty ? update(currentDone(bar), note) : line(`${label}: ${note}`)
        }
        case "Stalled": {
          const note = `stalled: no bytes moving on ${event.op}${event.offset === undefined ? "" : ` @${event.offset}`}`
          return tty ? update(currentDone(bar), note) : line(`${label}: ${note}`)
        }
        case "Finishing":
          return update(Math.min(event.bytesAcknowledged, Math.max(total - 1, 0)), "finishing")
        case "Completed":
          total = event.receipt.fileSize
          return update(event.receipt.fileSize, event.receipt.instant ? "instant upload" : "done")
      }
    }
    return { onEvent }
  })

const currentDone = (bar: cliProgress.SingleBar): number => bar.getProgress() * bar.getTotal()
