import * as Cli from "@cos-v4/cli/Cli"
import type { UploadReceipt } from "@cos-v4/slicer/UploadReceipt"
import { assert, describe, it } from "@effect/vitest"

const MiB = 1024 * 1024

const receipt = (overrides: Partial<UploadReceipt>): UploadReceipt => ({
  path: "/a/b.bin",
  sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
  fileSize: 8 * MiB,
  sliceSize: MiB,
  session: "s1",
  sliceCount: 8,
  slicesSent: 8,
  slicesSkipped: 0,
  bytesSent: 8 * MiB,
  bytesSkipped: 0,
  requests: 10,
  retries: 0,
  failures: [],
  instant: false,
  simple: false,
  resumed: false,
  integrity: "sha-at-init",
  verifiedBy: "server",
  access: { access_url: "", resource_path: "/1/b/a/b.bin", source_url: "", url: "http://127.0.0.1/a/b.bin" },
  startedAt: 1_000,
  finishedAt: 3_000,
  durationMillis: 2_000,
  hashingMillis: 500,
  buffers: { count: 5, size: MiB + 1024, peakInUse: 5, reused: 0 },
  ...overrides
})

describe("formatReceipt", () => {
  it("names the hashing pass before init inside the duration", () => {
    const took = Cli.formatReceipt("b.bin", receipt({})).split("\n").find((l) => l.includes("took"))
    assert.strictEqual(took, "  took      2.00 s (4.0 MiB/s sent), of which 0.50 s hashing before init")
  })

  it("says nothing of hashing when it ran alongside the sends", () => {
    const text = Cli.formatReceipt("b.bin", receipt({ integrity: "inline", verifiedBy: "stat", hashingMillis: 0 }))
    assert.notInclude(text, "hashing")
    assert.include(text, "verified by stat after finish")
  })
})
