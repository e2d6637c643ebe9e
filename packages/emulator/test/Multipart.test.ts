import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as crypto from "node:crypto"
import * as Multipart from "../src/Multipart.js"
import { multipart } from "./helpers.js"

const parse = (body: Buffer, contentType: string) =>
  Either.getOrThrow(Multipart.parse(body, Multipart.boundaryOf(contentType)!))

describe("Multipart", () => {
  it("parses text and binary parts without copying the payload", () => {
    const payload = Buffer.from([0, 13, 10, 45, 45, 255])
    const mp = multipart([{ name: "op", value: "upload" }, {
      name: "fileContent",
      value: payload,
      filename: "blob",
      contentType: "application/octet-stream"
    }])
    const parts = parse(mp.body, mp.contentType)
    assert.deepStrictEqual(parts.map((p) => p.name), ["op", "fileContent"])
    assert.strictEqual(parts[0]!.data.toString(), "upload")
    assert.strictEqual(parts[0]!.filename, undefined)
    assert.isTrue(parts[1]!.data.equals(payload))
    assert.strictEqual(parts[1]!.filename, "blob")
    assert.strictEqual(parts[1]!.contentType, "application/octet-stream")
    assert.strictEqual(parts[1]!.data.buffer, mp.body.buffer)
  })

  it("accepts a CRLF preamble (.NET) and a quoted boundary", () => {
    const mp = multipart([{ name: "op", value: "stat" }], { boundary: "abc def", preamble: "\r\n" })
    const parts = parse(mp.body, `multipart/form-data; boundary="abc def"`)
    assert.strictEqual(parts[0]!.data.toString(), "stat")
  })

  it("keeps duplicated parts in order and reads filename on text parts (py)", () => {
    const mp = multipart([
      { name: "op", value: "a", filename: "op" },
      { name: "op", value: "b", filename: "op" }
    ])
    const parts = parse(mp.body, mp.contentType)
    assert.deepStrictEqual(parts.map((p) => [p.name, p.filename, p.data.toString()]), [["op", "op", "a"], [
      "op",
      "op",
      "b"
    ]])
  })

  it("does not confuse name with filename", () => {
    const body = Buffer.from(
      "--x\r\nContent-Disposition: form-data; filename=\"f\"; name=\"n\"\r\n\r\nv\r\n--x--\r\n"
    )
    const parts = parse(body, "multipart/form-data; boundary=x")
    assert.strictEqual(parts[0]!.name, "n")
    assert.strictEqual(parts[0]!.filename, "f")
  })

  it("sniffs the boundary of a body without Content-Type", () => {
    const mp = multipart([{ name: "op", value: "x" }], { boundary: "zz" })
    assert.strictEqual(Multipart.sniffBoundary(mp.body), "zz")
  })

  it("refuses truncated bodies", () => {
    const mp = multipart([{ name: "op", value: "x" }], { boundary: "zz" })
    const cut = mp.body.subarray(0, mp.body.length - 12)
    assert.isTrue(Either.isLeft(Multipart.parse(cut, "zz")))
    assert.isTrue(Either.isLeft(Multipart.parse(Buffer.from("nothing here"), "zz")))
  })

  it.prop(
    "a large payload (a slice) first, last or between fields: the same parts as written",
    [
      FastCheck.integer({ min: 256 * 1024, max: 700 * 1024 }),
      FastCheck.integer({ min: 0, max: 3 }),
      FastCheck.integer({ min: 0, max: 3 }),
      FastCheck.integer({ min: 0, max: 2000 })
    ],
    ([size, before, after, fieldLength]) => {
      const payload = crypto.randomBytes(size)
      // separator-like bytes inside the payload (without the boundary itself) must not end it
      payload.write("\r\n--", size >> 1, "latin1")
      const field = (k: number) => ({ name: `f${k}`, value: "x".repeat(fieldLength) + k })
      const specs = [
        ...Array.from({ length: before }, (_, k) => field(k)),
        { name: "filecontent", value: payload, filename: "blob" },
        ...Array.from({ length: after }, (_, k) => field(before + k))
      ]
      const mp = multipart(specs)
      const parts = parse(mp.body, mp.contentType)
      assert.deepStrictEqual(parts.map((p) => p.name), specs.map((p) => p.name))
      assert.isTrue(parts[before]!.data.equals(payload))
      parts.forEach((p, k) => {
        if (k !== before) assert.strictEqual(p.data.toString(), specs[k]!.value)
      })
    },
    { fastCheck: { numRuns: 30 } }
  )
})
