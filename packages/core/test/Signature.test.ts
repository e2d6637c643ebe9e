import * as CosPath from "@cos-v4/core/CosPath"
import * as Signature from "@cos-v4/core/Signature"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as FastCheck from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as crypto from "node:crypto"
import { hmacSha1, sha1 } from "../src/internal/hmacSha1.js"

const ok = <A, E>(e: Either.Either<A, E>): A => {
  if (Either.isLeft(e)) assert.fail(`expected Right, got ${String(e.left)}`)
  return e.right
}
const reasonOf = <A>(e: Either.Either<A, Signature.SignatureError>): Signature.SignatureErrorReason => {
  if (Either.isRight(e)) assert.fail("expected SignatureError")
  assert.strictEqual(e.left._tag, "SignatureError")
  return e.left.reason
}
const path = (s: string): CosPath.CosPath => ok(CosPath.parse(s))

// protocol.md §6.5, doc vectors (whitespace removed)
const docKey = "bLcPnl88WU30VY57ipRhSePfPdOfSruK"
const docCredentials: Signature.Credentials = {
  appId: "200001",
  secretId: "AKIDUfLUEUigQiXqm7CVSspKJnuaiIKtxqAv",
  secretKey: Redacted.make(docKey)
}
const docMulti =
  "vxzLR6vzMNhBMUVzMTWKUB+LMeVhPTIwMDAwMSZrPUFLSURVZkxVRVVpZ1FpWHFtN0NWU3NwS0pudWFpSUt0eHFBdiZlPTE0Mzc5OTU3MDQmdD0xNDM3OTk1NjQ0JnI9MjA4MTY2MDQyMSZmPSZiPW5ld2J1Y2tldA=="
const docSingle =
  "f11dDSuw86CR02Ko1INzsZstbRlhPTIwMDAwMSZrPUFLSURVZkxVRVVpZ1FpWHFtN0NWU3NwS0pudWFpSUt0eHFBdiZlPTAmdD0xNDM3OTk1NjQ1JnI9MTE2NjcxMDc5MiZmPS8yMDAwMDEvbmV3YnVja2V0L3RlbmNlbnRfdGVzdC5qcGcmYj1uZXdidWNrZXQ="

// own vectors, SecretKey `testkey`
const own: Signature.Credentials = { appId: "1250000000", secretId: "AKIDtest", secretKey: Redacted.make("testkey") }
const ownBound =
  "NcBvSkO5dteVIOj1vD1LoOCUbhhhPTEyNTAwMDAwMDAmaz1BS0lEdGVzdCZlPTE3MDAwMDA2MDAmdD0xNzAwMDAwMDAwJnI9MTIzNDU2Nzg5JmY9LzEyNTAwMDAwMDAvYmt0L2Rpci9hJTIwYi50eHQmYj1ia3Q="
const ownUnbound =
  "4H1ZEJfhDCsVFseQgjDY6sSoQe5hPTEyNTAwMDAwMDAmaz1BS0lEdGVzdCZlPTE3MDAwMDA2MDAmdD0xNzAwMDAwMDAwJnI9MTIzNDU2Nzg5JmY9JmI9Ymt0"

const lookupOwn = (id: string) => id === "AKIDtest" ? Option.some(own.secretKey) : Option.none()
const lookupDoc = (id: string) => id === docCredentials.secretId ? Option.some(docCredentials.secretKey) : Option.none()

const T = 1_700_000_000
const baseVerify = {
  lookupKey: lookupOwn,
  appId: "1250000000",
  bucket: "bkt",
  resourcePath: path("/dir/a b.txt"),
  opKind: "multi" as const,
  now: T + 10
}

const multi = (overrides: Partial<Signature.SignMultiOptions> = {}): string =>
  Redacted.value(
    Signature.signMulti({ credentials: own, bucket: "bkt", expiresAt: T + 600, now: T, rand: 42, ...overrides })
  )
const once = (fileId: string, overrides: Partial<Signature.SignOnceOptions> = {}): string =>
  Redacted.value(Signature.signOnce({ credentials: own, bucket: "bkt", fileId, now: T, rand: 7, ...overrides }))

describe("Signature test vectors (§6.5)", () => {
  it("reproduces the documented multi-effect vector", () => {
    const sign = Signature.signMulti({
      credentials: docCredentials,
      bucket: "newbucket",
      expiresAt: 1437995704,
      now: 1437995644,
      rand: 2081660421
    })
    assert.strictEqual(Redacted.value(sign), docMulti)
  })

  it("reproduces the documented single-effect vector", () => {
    const sign = Signature.signOnce({
      credentials: docCredentials,
      bucket: "newbucket",
      fileId: CosPath.fileId("200001", "newbucket", path("/tencent_test.jpg")),
      now: 1437995645,
      rand: "1166710792"
    })
    assert.strictEqual(Redacted.value(sign), docSingle)
  })

  it("reproduces the own vectors", () => {
    const fileId = CosPath.fileId("1250000000", "bkt", path("/dir/a b.txt"))
    assert.strictEqual(fileId, "/1250000000/bkt/dir/a%20b.txt")
    const opts = { credentials: own, bucket: "bkt", expiresAt: 1700000600, now: 1700000000, rand: 123456789 }
    assert.strictEqual(Redacted.value(Signature.signMulti({ ...opts, fileId })), ownBound)
    assert.strictEqual(Redacted.value(Signature.signMulti(opts)), ownUnbound)
  })

  it("verify accepts the doc vectors", () => {
    const m = ok(Signature.verify({
      sign: docMulti,
      lookupKey: lookupDoc,
      appId: "200001",
      bucket: "newbucket",
      resourcePath: path("/any/file.bin"),
      opKind: "multi",
      now: 1437995650
    }))
    assert.strictEqual(m.kind, "multi")
    assert.deepStrictEqual(m.fields, {
      a: "200001",
      k: "AKIDUfLUEUigQiXqm7CVSspKJnuaiIKtxqAv",
      e: 1437995704,
      t: 1437995644,
      r: "2081660421",
      f: "",
      b: "newbucket"
    })
    const s = ok(Signature.verify({
      sign: docSingle,
      lookupKey: lookupDoc,
      appId: "200001",
      bucket: "newbucket",
      resourcePath: path("/tencent_test.jpg"),
      opKind: "single",
      now: 1437995650,
      mode: "strict"
    }))
    assert.strictEqual(s.kind, "single")
    assert.strictEqual(s.fields.f, "/200001/newbucket/tencent_test.jpg")
  })

  it("verify accepts the own vectors", () => {
    for (const sign of [ownBound, ownUnbound]) {
      const parsed = ok(Signature.verify({ ...baseVerify, sign, now: 1700000100, mode: "strict" }))
      assert.strictEqual(parsed.fields.r, "123456789")
      assert.strictEqual(parsed.mac.length, 20)
    }
  })
})

describe("Signature.parse", () => {
  it("accepts any field order (php: a,b,k,e,t,r,f)", () => {
    const plain = `a=1250000000&b=bkt&k=AKIDtest&e=${T + 600}&t=${T}&r=99&f=/1250000000/bkt/dir/a%20b.txt`
    const sign = Redacted.value(Signature.signPlainText(own.secretKey, plain))
    const parsed = ok(Signature.parse(sign))
    assert.strictEqual(parsed.plain, plain)
    assert.deepStrictEqual(parsed.fields, {
      a: "1250000000",
      k: "AKIDtest",
      e: T + 600,
      t: T,
      r: "99",
      f: "/1250000000/bkt/dir/a%20b.txt",
      b: "bkt"
    })
    ok(Signature.verify({ ...baseVerify, sign }))
  })

  it("splits on the first = only and ignores unknown keys", () => {
    const plain = `x=1&a=1&k=K&e=0&t=5&r=1&f=/1/b/a=b%3D&b=b`
    const parsed = ok(Signature.parse(Redacted.value(Signature.signPlainText(Redacted.make("k"), plain))))
    assert.strictEqual(parsed.fields.f, "/1/b/a=b%3D")
    assert.strictEqual(parsed.kind, "single")
  })

  it("plainText uses the a,k,e,t,r,f,b order", () => {
    assert.strictEqual(
      Signature.plainText({ a: "1", k: "K", e: 2, t: 1, r: 9, f: "", b: "b" }),
      "a=1&k=K&e=2&t=1&r=9&f=&b=b"
    )
  })

  it("tolerates missing base64 padding", () => {
    assert.strictEqual(ok(Signature.parse(docMulti.replace(/=+$/, ""))).fields.b, "newbucket")
  })

  it("fails with Malformed on broken input", () => {
    const withPlain = (plain: string) => Redacted.value(Signature.signPlainText(Redacted.make("k"), plain))
    const cases: Array<[string, string]> = [
      ["not base64", "!!!!"],
      ["empty", ""],
      ["20 bytes only", Encoding.encodeBase64(new Uint8Array(20))],
      ["bad padding", "ab=c"],
      ["not UTF-8", Encoding.encodeBase64(new Uint8Array([...new Uint8Array(20), 0xff, 0xfe]))],
      ["missing b", withPlain("a=1&k=K&e=0&t=5&r=1&f=")],
      ["missing f", withPlain("a=1&k=K&e=0&t=5&r=1&b=b")],
      ["duplicate", withPlain("a=1&k=K&e=0&t=5&r=1&f=&b=b&b=c")],
      ["no =", withPlain("a=1&k=K&e=0&t=5&r=1&f=&b=b&zz")],
      ["e not numeric", withPlain("a=1&k=K&e=soon&t=5&r=1&f=&b=b")],
      ["t negative", withPlain("a=1&k=K&e=0&t=-5&r=1&f=&b=b")],
      ["e huge", withPlain("a=1&k=K&e=99999999999999999&t=5&r=1&f=&b=b")]
    ]
    for (const [name, sign] of cases) assert.strictEqual(reasonOf(Signature.parse(sign)), "Malformed", name)
  })
})

describe("Signature.verify", () => {
  it("fails with BadMac when anything was tampered with", () => {
    const sign = multi()
    const bytes = ok(Encoding.decodeBase64(sign))
    // change the plain text: the bucket `bkt` → `bku`
    const plain = bytes.slice()
    plain[plain.length - 1] = plain[plain.length - 1]! + 1
    const other = Redacted.value(Signature.signMulti({
      credentials: own,
      bucket: "bku",
      expiresAt: T + 600,
      now: T,
      rand: 42
    }))
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, bucket: "bku", sign: Encoding.encodeBase64(plain) })),
      "BadMac"
    )
    ok(Signature.verify({ ...baseVerify, bucket: "bku", sign: other }))
    // flip one MAC bit
    const mac = bytes.slice()
    mac[3] = mac[3]! ^ 0x10
    assert.strictEqual(reasonOf(Signature.verify({ ...baseVerify, sign: Encoding.encodeBase64(mac) })), "BadMac")
    // wrong key on the server side
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, sign, lookupKey: () => Option.some(Redacted.make("testkez")) })),
      "BadMac"
    )
  })

  it("fails with UnknownSecretId", () => {
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, sign: multi(), lookupKey: () => Option.none() })),
      "UnknownSecretId"
    )
  })

  it("checks appid and bucket", () => {
    assert.strictEqual(reasonOf(Signature.verify({ ...baseVerify, sign: multi(), bucket: "other" })), "BucketMismatch")
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, sign: multi(), appId: "1250000001" })),
      "AppIdMismatch"
    )
  })

  it("multi-effect: expires at e, with optional clock skew and ignoreExpiry", () => {
    const sign = multi()
    ok(Signature.verify({ ...baseVerify, sign, now: T + 599 }))
    assert.strictEqual(reasonOf(Signature.verify({ ...baseVerify, sign, now: T + 600 })), "Expired")
    assert.strictEqual(reasonOf(Signature.verify({ ...baseVerify, sign, now: T + 5000 })), "Expired")
    ok(Signature.verify({ ...baseVerify, sign, now: T + 629, clockSkewSeconds: 30 }))
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, sign, now: T + 630, clockSkewSeconds: 30 })),
      "Expired"
    )
    ok(Signature.verify({ ...baseVerify, sign, now: T + 86400, ignoreExpiry: true }))
  })

  it("multi-effect: f empty, exact, or a directory prefix of the resource", () => {
    const accepted = [
      "",
      "/1250000000/bkt/dir/a%20b.txt",
      "/1250000000/bkt/dir/",
      "/1250000000/bkt/",
      "/1250000000/bkt/dir/a b.txt"
    ]
    for (const fileId of accepted) ok(Signature.verify({ ...baseVerify, sign: multi({ fileId }) }))
    const refused = [
      "/1250000000/bkt/dir/a%20b.txt2",
      "/1250000000/bkt/di",
      "/1250000000/bkt/dir",
      "/1250000000/bkt/other/",
      "/1250000000/bkt2/dir/a%20b.txt",
      "/1250000000/",
      "/",
      "/1250000000/bkt/dir/%zz"
    ]
    for (const fileId of refused) {
      assert.strictEqual(
        reasonOf(Signature.verify({ ...baseVerify, sign: multi({ fileId }) })),
        "ResourceMismatch",
        fileId
      )
    }
  })

  it("single-effect: f must decode to the resource, any SDK encoding", () => {
    // `dir/a b+ü~!()'.txt` as py, java, php/cpp, net and js encode it (§6.3)
    const resourcePath = path("/dir/a b+ü~!()'.txt")
    const variants = [
      "/1250000000/bkt/dir/a%20b%2B%C3%BC~%21%28%29%27.txt",
      "/1250000000/bkt/dir/a%20b%2B%C3%BC%7E%21%28%29%27.txt",
      "/1250000000/bkt/dir/a%20b%2b%c3%bc%7e!()%27.txt",
      "/1250000000/bkt/dir/a%20b%2B%C3%BC~!()'.txt"
    ]
    assert.strictEqual(CosPath.fileId("1250000000", "bkt", resourcePath), variants[0])
    for (const f of variants) {
      const parsed = ok(
        Signature.verify({ ...baseVerify, resourcePath, opKind: "single", sign: once(f), mode: "strict" })
      )
      assert.strictEqual(parsed.kind, "single")
    }
    // `+` is a plus, not a space
    const spaced = "/1250000000/bkt/dir/a%20b+%C3%BC~!()'.txt"
    ok(Signature.verify({ ...baseVerify, resourcePath, opKind: "single", sign: once(spaced) }))
    assert.strictEqual(
      reasonOf(Signature.verify({
        ...baseVerify,
        resourcePath: path("/dir/a b ü~!()'.txt"),
        opKind: "single",
        sign: once(spaced)
      })),
      "ResourceMismatch"
    )
  })

  it("single-effect: refuses other resources, directory prefixes and an empty f", () => {
    const single = { ...baseVerify, opKind: "single" as const }
    for (const f of ["", "/1250000000/bkt/dir/", "/1250000000/bkt/", "/1250000000/bkt/dir/b.txt"]) {
      assert.strictEqual(reasonOf(Signature.verify({ ...single, sign: once(f) })), "ResourceMismatch", f)
    }
    // no expiry for e = 0
    ok(Signature.verify({ ...single, sign: once("/1250000000/bkt/dir/a%20b.txt"), now: T + 10_000_000 }))
  })

  it("kind rules: lenient accepts both kinds, strict does not", () => {
    const multiSign = multi({ fileId: "/1250000000/bkt/dir/a%20b.txt" })
    const singleSign = once("/1250000000/bkt/dir/a%20b.txt")
    ok(Signature.verify({ ...baseVerify, opKind: "single", sign: multiSign }))
    ok(Signature.verify({ ...baseVerify, opKind: "single", sign: multiSign, mode: "lenient" }))
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, opKind: "single", sign: multiSign, mode: "strict" })),
      "SingleUseRequired"
    )
    ok(Signature.verify({ ...baseVerify, opKind: "multi", sign: singleSign }))
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, opKind: "multi", sign: singleSign, mode: "strict" })),
      "MultiUseRequired"
    )
  })

  it("lifetime cap and t in the future (strict)", () => {
    const day = 86400
    const long = multi({ expiresAt: T + 91 * day })
    ok(Signature.verify({ ...baseVerify, sign: long }))
    assert.strictEqual(reasonOf(Signature.verify({ ...baseVerify, sign: long, mode: "strict" })), "LifetimeTooLong")
    ok(Signature.verify({ ...baseVerify, sign: multi({ expiresAt: T + 90 * day }), mode: "strict" }))
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, sign: multi(), maxLifetimeSeconds: 300 })),
      "LifetimeTooLong"
    )
    const future = multi({ now: T + 100, expiresAt: T + 700 })
    ok(Signature.verify({ ...baseVerify, sign: future, now: T }))
    assert.strictEqual(
      reasonOf(Signature.verify({ ...baseVerify, sign: future, now: T, mode: "strict" })),
      "NotYetValid"
    )
    ok(Signature.verify({ ...baseVerify, sign: future, now: T, mode: "strict", clockSkewSeconds: 100 }))
  })

  it("SignatureError carries no secret material", () => {
    const sign = multi()
    const result = Signature.verify({ ...baseVerify, sign, bucket: "other" })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      const text = JSON.stringify(result.left) + String(result.left) + result.left.message
      assert.notInclude(text, "testkey")
      assert.notInclude(text, sign)
      assert.include(result.left.message, "BucketMismatch")
    }
  })

  it("replayKey is stable and distinguishes nonces", () => {
    const f = "/1250000000/bkt/dir/a%20b.txt"
    const a = ok(Signature.parse(once(f)))
    const b = ok(Signature.parse(once(f)))
    const c = ok(Signature.parse(once(f, { rand: 8 })))
    assert.strictEqual(Signature.replayKey(a), Signature.replayKey(b))
    assert.notStrictEqual(Signature.replayKey(a), Signature.replayKey(c))
  })
})

describe("Signature.sign (Clock and Random)", () => {
  it.effect("multi: t from the Clock, e = t + lifetime, r from Random", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T * 1000 + 999)
      const sign = yield* Signature.sign({ kind: "multi", credentials: own, bucket: "bkt" })
      const parsed = ok(Signature.parse(Redacted.value(sign)))
      assert.strictEqual(parsed.fields.t, T)
      assert.strictEqual(parsed.fields.e, T + 300)
      assert.strictEqual(parsed.fields.f, "")
      assert.match(parsed.fields.r, /^[0-9]{1,9}$/)
      const long = yield* Signature.sign({ kind: "multi", credentials: own, bucket: "bkt", lifetime: "1 hour" })
      assert.strictEqual(ok(Signature.parse(Redacted.value(long))).fields.e, T + 3600)
      // expires with the clock
      yield* TestClock.adjust("299 seconds")
      yield* Signature.verifyNow({ ...baseVerify, sign: Redacted.value(sign) })
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Signature.verifyNow({ ...baseVerify, sign: Redacted.value(sign) }))
      assert.strictEqual(error.reason, "Expired")
    }))

  it.effect("single: e = 0 and f as given", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T * 1000)
      const fileId = CosPath.fileId("1250000000", "bkt", path("/dir/a b.txt"))
      const sign = yield* Signature.sign({ kind: "single", credentials: own, bucket: "bkt", fileId })
      const parsed = yield* Signature.verifyNow({
        ...baseVerify,
        opKind: "single",
        mode: "strict",
        sign: Redacted.value(sign)
      })
      assert.strictEqual(parsed.fields.e, 0)
      assert.strictEqual(parsed.fields.f, fileId)
    }))

  it.effect("the nonce comes from Random (same seed, same signature)", () =>
    Effect.gen(function*() {
      const make = Signature.sign({ kind: "multi", credentials: own, bucket: "bkt" })
      const a = yield* Effect.withRandom(make, Random.make("seed"))
      const b = yield* Effect.withRandom(make, Random.make("seed"))
      const c = yield* Effect.withRandom(make, Random.make("other seed"))
      assert.strictEqual(Redacted.value(a), Redacted.value(b))
      assert.notStrictEqual(Redacted.value(a), Redacted.value(c))
    }))
})

describe("HMAC-SHA1", () => {
  it("known answers (FIPS 180 / RFC 2202)", () => {
    const hex = (b: Uint8Array) => Encoding.encodeHex(b)
    const utf8 = (s: string) => Uint8Array.from(Buffer.from(s, "utf8"))
    assert.strictEqual(hex(sha1(utf8("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d")
    assert.strictEqual(hex(sha1(new Uint8Array(0))), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    assert.strictEqual(
      hex(hmacSha1(new Uint8Array(80).fill(0xaa), utf8("Test Using Larger Than Block-Size Key - Hash Key First"))),
      "aa4ae5e15272d00e95705637ce8a3b55ed402112"
    )
  })

  it.prop(
    "matches node:crypto for arbitrary keys and messages",
    [FastCheck.uint8Array({ maxLength: 150 }), FastCheck.uint8Array({ maxLength: 300 })],
    ([key, message]) => {
      const expected = crypto.createHmac("sha1", key).update(message).digest("hex")
      assert.strictEqual(Encoding.encodeHex(hmacSha1(key, message)), expected)
      assert.strictEqual(Encoding.encodeHex(sha1(message)), crypto.createHash("sha1").update(message).digest("hex"))
    }
  )

  it.prop("sign → verify round-trips for arbitrary keys, ids and nonces", [
    FastCheck.string({ minLength: 1, maxLength: 40 }),
    FastCheck.string({ unit: "binary", minLength: 1, maxLength: 40 }),
    FastCheck.nat()
  ], ([secretId, secretKey, rand]) => {
    const id = secretId.replace(/[&=]/g, "_")
    const credentials = { appId: "1250000000", secretId: id, secretKey: Redacted.make(secretKey) }
    const sign = Signature.signMulti({ credentials, bucket: "bkt", expiresAt: T + 60, now: T, rand })
    const parsed = ok(Signature.verify({
      ...baseVerify,
      lookupKey: (k) => k === id ? Option.some(credentials.secretKey) : Option.none(),
      sign: Redacted.value(sign)
    }))
    assert.strictEqual(parsed.fields.r, String(rand))
    assert.strictEqual(parsed.fields.k, id)
  })
})
