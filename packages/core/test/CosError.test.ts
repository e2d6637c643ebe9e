import * as CosError from "@cos-v4/core/CosError"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"

describe("CosError", () => {
  it("maps every attested code and message", () => {
    const cases: Array<[number, string, CosError.ServerReason, CosError.Recovery]> = [
      [-4019, "_ERROR_FILE_NOT_FINISH_UPLOAD", "UploadNotFinished", "resync"],
      [-29094, "whatever the server said", "ShaRequired", "never"],
      [-5964, "ERROR_CGI_PARAM_NO_SUCH_OP", "NoSuchOp", "never"],
      [-70, "?", "SignatureMalformed", "resign"]
    ]
    for (const [code, message, reason, recovery] of cases) {
      const e = CosError.fromServer({ code, message, status: 200, op: "upload_slice_init", path: "/a" })
      assert.strictEqual(e.reason, reason)
      assert.strictEqual(e.recovery, recovery)
      assert.strictEqual(e.code, code)
      assert.strictEqual(e.serverMessage, message)
    }
  })

  it("maps the symbolic messages whose numbers are unknown, whatever number comes with them", () => {
    const cases: Array<[string, CosError.ServerReason]> = [
      ["ERROR_PROXY_AUTH_FAILED", "AuthFailed"],
      ["ERROR_PROXY_AUTH_EXPIRED", "AuthExpired"],
      ["ERROR_PROXY_SIGN_BUCKET_NOTMATCH", "BucketMismatch"],
      ["ERROR_CMD_COS_PATH_CONFLICT", "PathConflict"],
      ["ERROR_CMD_FILE_NOTEXIST", "NotFound"],
      ["ERROR_SAME_FILE_UPLOAD", "SameFileUploaded"]
    ]
    for (const [message, reason] of cases) {
      const e = CosError.fromServer({ code: -123456, message, status: 200 })
      assert.strictEqual(e.reason, reason)
      assert.strictEqual(e.code, -123456)
    }
  })

  it("every table entry round-trips through fromServer", () => {
    for (const entry of CosError.codeTable) {
      const e = CosError.fromServer({ code: entry.code, message: entry.message, status: entry.status })
      assert.strictEqual(e.reason, entry.reason)
      assert.strictEqual(e.recovery, entry.recovery)
      assert.deepStrictEqual(CosError.codeOf(entry.reason as Exclude<CosError.ServerReason, "Unknown">), {
        code: entry.code,
        message: entry.message,
        status: entry.status,
        recovery: entry.recovery
      })
    }
    const codes = CosError.codeTable.map((e) => e.code)
    assert.strictEqual(new Set(codes).size, codes.length, "codes are unique")
    const messages = CosError.codeTable.map((e) => e.message)
    assert.strictEqual(new Set(messages).size, messages.length, "messages are unique")
  })

  it.prop(
    "the mapping is total: unknown codes keep their raw values with reason Unknown",
    [FastCheck.integer({ min: -100000, max: -1 }), FastCheck.string(), FastCheck.constantFrom(200, 400, 404, 500, 503)],
    ([code, message, status]) => {
      const known = CosError.codeTable.some((e) => e.code === code || e.message === message)
      const e = CosError.fromServer({ code, message, status, requestId: "rid", op: "stat", path: "/p" })
      assert.strictEqual(e.code, code)
      assert.strictEqual(e.serverMessage, message)
      assert.strictEqual(e.status, status)
      assert.strictEqual(e.requestId, "rid")
      assert.strictEqual(e.op, "stat")
      if (!known) {
        assert.strictEqual(e.reason, "Unknown")
        assert.strictEqual(e.recovery, status >= 500 ? "retry" : "never")
      }
    }
  )

  it.effect("errors are yieldable, catchable by tag and carry their context in the message", () =>
    Effect.gen(function*() {
      const e = CosError.fromServer({
        code: -4019,
        message: "_ERROR_FILE_NOT_FINISH_UPLOAD",
        status: 200,
        requestId: "NTk1",
        op: "upload_slice_init",
        path: "/dir/big.bin"
      })
      const caught = yield* Effect.flip(e)
      assert.strictEqual(caught._tag, "ServerError")
      assert.include(caught.message, "-4019")
      assert.include(caught.message, "/dir/big.bin")
      assert.include(caught.message, "NTk1")
      const handled = yield* e.pipe(Effect.catchTag("ServerError", (err) => Effect.succeed(err.reason)))
      assert.strictEqual(handled, "UploadNotFinished")
    }))

  it("the union schema encodes and decodes every member", () => {
    const members: Array<CosError.CosError> = [
      CosError.fromServer({ code: -4019, message: "_ERROR_FILE_NOT_FINISH_UPLOAD", status: 200 }),
      new CosError.HttpStatusError({ reason: "NotFound", status: 404, body: "" }),
      new CosError.TransportError({ reason: "Stalled", op: "upload_slice_data", path: "/a" }),
      new CosError.ProtocolError({ reason: "Decode", detail: "missing session" }),
      new CosError.InvalidArgument({ reason: "InvalidPath", argument: "target", detail: "bad" }),
      new CosError.SourceError({ reason: "Changed", source: "/tmp/x", detail: "mtime" }),
      new CosError.CheckpointError({ reason: "Locked", key: "k", detail: "pid 1" }),
      new CosError.SigningError({ reason: "Unavailable", detail: "down" }),
      new CosError.UploadFailed({
        reason: "RetriesExhausted",
        path: "/a",
        attempts: 3,
        acknowledgedBytes: 10,
        failures: [CosError.toAttemptFailure(new CosError.TransportError({ reason: "Reset" }), 0)]
      })
    ]
    const encode = Schema.encodeSync(CosError.CosError)
    const decode = Schema.decodeUnknownSync(CosError.CosError)
    for (const m of members) {
      const back = decode(JSON.parse(JSON.stringify(encode(m))))
      assert.strictEqual(back._tag, m._tag)
      assert.strictEqual(back.reason, m.reason)
      assert.strictEqual(back.recovery, m.recovery)
      assert.isTrue(CosError.isCosError(back))
    }
    assert.isFalse(CosError.isCosError(new Error("x")))
    assert.isFalse(CosError.isCosError({ _tag: "ServerError" }))
  })

  it("recovery classes of local errors", () => {
    assert.strictEqual(new CosError.TransportError({ reason: "Timeout" }).recovery, "retry")
    assert.strictEqual(new CosError.HttpStatusError({ reason: "ServerError", status: 503, body: "" }).recovery, "retry")
    assert.strictEqual(
      new CosError.HttpStatusError({ reason: "ClientError", status: 400, body: "<xml/>" }).recovery,
      "never"
    )
    assert.strictEqual(new CosError.SourceError({ reason: "Changed", source: "s", detail: "" }).recovery, "never")
    assert.strictEqual(new CosError.CheckpointError({ reason: "Io", key: "k", detail: "" }).recovery, "retry")
  })
})
