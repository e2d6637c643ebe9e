import * as Protocol from "@cos-v4/core/Protocol"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"

const decode = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknownEither(schema)

describe("Protocol", () => {
  it("normalizeFields folds case and keeps the first occurrence", () => {
    const f = Protocol.normalizeFields([
      ["op", "upload_slice_data"],
      ["fileContent", "A"],
      ["Session", "s1"],
      ["filecontent", "B"],
      ["session", "s2"]
    ])
    assert.deepStrictEqual(f, { op: "upload_slice_data", filecontent: "A", session: "s1" })
  })

  it("decodes init fields as the SDKs send them", () => {
    const fields = Protocol.normalizeFields([
      ["op", "upload_slice_init"],
      ["fileSize", "2098152"],
      ["slice_size", "1048576"],
      ["sha", "25AD34DB1427CAEFE4C6B84D5A0BB4B0C7134EA1"],
      [
        "uploadparts",
        "[{\"datalen\": 1048576, \"datasha\": \"463935c7eea4ca2705d0f481ecedb31f4d0f3a96\", \"offset\": 0}]\n"
      ],
      ["biz_attr", ""],
      ["insertOnly", ""]
    ])
    const r = decode(Protocol.SliceInitFields)(fields)
    assert.isTrue(Either.isRight(r))
    if (Either.isRight(r)) {
      assert.strictEqual(r.right.filesize, 2098152)
      assert.strictEqual(r.right.slice_size, 1048576)
      assert.strictEqual(r.right.sha, "25ad34db1427caefe4c6b84d5a0bb4b0c7134ea1")
      assert.strictEqual(r.right.uploadparts?.[0]?.datalen, 1048576)
      assert.isUndefined(r.right.insertonly)
    }
  })

  it("rejects non-decimal numbers and bad sha", () => {
    for (const filesize of ["-1", "1e3", "0x10", "", " 1", "1.5"]) {
      assert.isTrue(Either.isLeft(decode(Protocol.SliceInitFields)({ op: "upload_slice_init", filesize })), filesize)
    }
    assert.isTrue(
      Either.isLeft(decode(Protocol.SliceInitFields)({ op: "upload_slice_init", filesize: "1", sha: "xyz" }))
    )
    assert.isTrue(Either.isLeft(decode(Protocol.SliceDataFields)({ op: "upload_slice_data", offset: "0" })))
  })

  it("listparts null decodes to [] and encodes as an array", () => {
    const r = decode(Protocol.SliceListData)({ session: "s", filesize: 10, slice_size: 1048576, listparts: null })
    assert.isTrue(Either.isRight(r))
    if (Either.isRight(r)) {
      assert.isFalse(Protocol.isAccessInfo(r.right))
      assert.deepStrictEqual("listparts" in r.right ? r.right.listparts : undefined, [])
      const encoded = Schema.encodeSync(Protocol.SliceListData)(r.right)
      assert.deepStrictEqual((encoded as { listparts: unknown }).listparts, [])
    }
  })

  it("an instant-upload init reply has access info and no session", () => {
    const r = decode(Protocol.SliceInitData)({
      access_url: "http://b-1.file.myqcloud.com/a",
      resource_path: "/1/b/a",
      source_url: "http://b-1.cossh.myqcloud.com/a",
      url: "http://127.0.0.1/files/v2/1/b/a"
    })
    assert.isTrue(Either.isRight(r) && Protocol.isAccessInfo(r.right))
  })

  it("success envelopes encode numbers as numbers and SUCCESS", () => {
    const env = Schema.encodeSync(Protocol.Success(Protocol.SliceSession))({
      code: 0,
      message: "SUCCESS",
      request_id: "r",
      data: { session: "s", slice_size: 1048576, serial_upload: 0 }
    })
    assert.deepStrictEqual(JSON.parse(JSON.stringify(env)), {
      code: 0,
      message: "SUCCESS",
      request_id: "r",
      data: { session: "s", slice_size: 1048576, serial_upload: 0 }
    })
  })

  it("stat accepts ctime/mtime as strings or numbers", () => {
    const a = decode(Protocol.StatData)({ name: "a", filesize: 3, ctime: "1700000000", mtime: 1700000001 })
    assert.isTrue(Either.isRight(a))
    if (Either.isRight(a)) {
      assert.strictEqual(a.right.ctime, 1700000000)
      assert.strictEqual(a.right.mtime, 1700000001)
    }
  })

  it.prop(
    "Int: decimal strings and numbers agree",
    [FastCheck.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })],
    ([n]) => {
      const fromString = Schema.decodeUnknownSync(Protocol.Int)(String(n))
      const fromNumber = Schema.decodeUnknownSync(Protocol.Int)(n)
      assert.strictEqual(fromString, n)
      assert.strictEqual(fromNumber, n)
      assert.strictEqual(Schema.encodeSync(Protocol.Int)(n), n)
      assert.strictEqual(Schema.encodeSync(Protocol.IntField)(n), String(n))
    }
  )

  it.prop(
    "uploadparts JSON round-trips whatever the key order and whitespace",
    [
      FastCheck.array(
        FastCheck.record({
          offset: FastCheck.nat(),
          datalen: FastCheck.nat(),
          datasha: FastCheck.stringMatching(/^[0-9a-f]{40}$/)
        }),
        { maxLength: 8 }
      ),
      FastCheck.boolean()
    ],
    ([parts, pretty]) => {
      const text = pretty
        ? JSON.stringify(parts.map((p) => ({ datalen: p.datalen, datasha: p.datasha, offset: p.offset })), null, 1)
        : JSON.stringify(parts)
      const decoded = Schema.decodeUnknownSync(Protocol.UploadPartsFromJson)(text)
      assert.deepStrictEqual(decoded, parts)
    }
  )
})
