import * as CosPath from "@cos-v4/core/CosPath"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"

const ok = <A, E>(e: Either.Either<A, E>): A => {
  if (Either.isLeft(e)) assert.fail(`expected Right, got ${String(e.left)}`)
  return e.right
}
const reasonOf = <A>(e: Either.Either<A, CosPath.InvalidPath>): CosPath.InvalidPathReason => {
  if (Either.isRight(e)) assert.fail(`expected InvalidPath, got ${JSON.stringify(e.right)}`)
  assert.strictEqual(e.left._tag, "InvalidPath")
  return e.left.reason
}

// protocol.md §6.3: `dir/a b+ü~!*()'.txt` as each SDK encodes it
const sdkVariants = {
  py: "dir/a%20b%2B%C3%BC~%21%2A%28%29%27.txt",
  java: "dir/a%20b%2B%C3%BC%7E%21*%28%29%27.txt",
  php: "dir/a%20b%2B%C3%BC~%21%2A%28%29%27.txt",
  cpp: "dir/a%20b%2B%C3%BC~%21%2A%28%29%27.txt",
  net: "dir/a%20b%2b%c3%bc%7e!*()%27.txt",
  js: "dir/a%20b%2B%C3%BC~!*()'.txt"
}
const sample = "/dir/a b+ü~!*()'.txt"
// `*` is one of the characters the SDKs refuse in a path, so the same without it for the validating parsers
const validVariants = {
  py: "dir/a%20b%2B%C3%BC~%21%28%29%27.txt",
  java: "dir/a%20b%2B%C3%BC%7E%21%28%29%27.txt",
  php: "dir/a%20b%2B%C3%BC~%21%28%29%27.txt",
  cpp: "dir/a%20b%2B%C3%BC~%21%28%29%27.txt",
  net: "dir/a%20b%2b%c3%bc%7e!()%27.txt",
  js: "dir/a%20b%2B%C3%BC~!()'.txt"
}
const validSample = "/dir/a b+ü~!()'.txt"

describe("CosPath.parse", () => {
  it("accepts files, directories and the root", () => {
    assert.strictEqual(ok(CosPath.parse("/dir/a.txt")), "/dir/a.txt")
    assert.strictEqual(ok(CosPath.parse("/dir/sub/")), "/dir/sub/")
    assert.strictEqual(ok(CosPath.parse("/")), "/")
    assert.strictEqual(ok(CosPath.parse(validSample)), validSample)
    assert.strictEqual(ok(CosPath.parse("/a/.../b..c/.x")), "/a/.../b..c/.x")
  })

  it("adds a missing leading slash unless requireLeadingSlash", () => {
    assert.strictEqual(ok(CosPath.parse("dir/a.txt")), "/dir/a.txt")
    assert.strictEqual(ok(CosPath.parse("dir/")), "/dir/")
    assert.strictEqual(reasonOf(CosPath.parse("dir/a.txt", { requireLeadingSlash: true })), "NotAbsolute")
  })

  it("rejects the characters the SDKs reject", () => {
    for (const c of ["?", "*", ":", "|", "\\", "<", ">", "\""]) {
      assert.strictEqual(reasonOf(CosPath.parse(`/dir/a${c}b.txt`)), "ForbiddenCharacter", c)
    }
  })

  it("rejects control characters and unpaired surrogates", () => {
    for (const c of ["\u0000", "\u0001", "\n", "\u001f", "\u007f"]) {
      assert.strictEqual(reasonOf(CosPath.parse(`/a${c}b`)), "ControlCharacter")
    }
    assert.strictEqual(reasonOf(CosPath.parse("/a\uD800b")), "InvalidUnicode")
    assert.strictEqual(reasonOf(CosPath.parse("/a\uDC00")), "InvalidUnicode")
    assert.strictEqual(ok(CosPath.parse("/a\uD83D\uDE00")), "/a😀")
  })

  it("rejects empty, blank and dot segments", () => {
    assert.strictEqual(reasonOf(CosPath.parse("")), "Empty")
    for (const p of ["//", "/a//b", "//a", "/a//", "/ /", "/a/ /b", "/a/\u3000/"]) {
      assert.strictEqual(reasonOf(CosPath.parse(p)), "EmptySegment", p)
    }
    for (const p of ["/.", "/./", "/..", "/../", "/a/../b", "/a/./b", "/a/..", "../etc/passwd"]) {
      assert.strictEqual(reasonOf(CosPath.parse(p)), "DotSegment", p)
    }
  })

  it("rejects paths longer than maxBytes UTF-8 bytes", () => {
    assert.strictEqual(reasonOf(CosPath.parse("/" + "a".repeat(CosPath.maxBytes))), "TooLong")
    // 3 bytes per character: short in UTF-16, too long in UTF-8
    assert.strictEqual(reasonOf(CosPath.parse("/" + "ü中".repeat(CosPath.maxBytes / 4))), "TooLong")
    assert.isTrue(Either.isRight(CosPath.parse("/" + "a".repeat(CosPath.maxBytes - 1))))
  })

  it("parseFile refuses directories", () => {
    assert.strictEqual(ok(CosPath.parseFile("/dir/a.txt")), "/dir/a.txt")
    assert.strictEqual(reasonOf(CosPath.parseFile("/dir/")), "TrailingSlash")
    assert.strictEqual(reasonOf(CosPath.parseFile("/")), "TrailingSlash")
  })

  it("getters", () => {
    const file = ok(CosPath.parse("/dir/a.txt"))
    const dir = ok(CosPath.parse("/dir/sub/"))
    assert.isFalse(CosPath.isDirectory(file))
    assert.isTrue(CosPath.isDirectory(dir))
    assert.isTrue(CosPath.isDirectory(CosPath.root))
    assert.isTrue(CosPath.isRoot(CosPath.root))
    assert.deepStrictEqual(CosPath.segments(file), ["dir", "a.txt"])
    assert.deepStrictEqual(CosPath.segments(dir), ["dir", "sub"])
    assert.deepStrictEqual(CosPath.segments(CosPath.root), [])
    assert.strictEqual(CosPath.name(file), "a.txt")
    assert.strictEqual(CosPath.name(dir), "sub")
    assert.strictEqual(CosPath.name(CosPath.root), "")
  })

  it("the CosPath schema accepts only canonical paths", () => {
    const decode = Schema.decodeUnknownEither(CosPath.CosPath)
    assert.strictEqual(ok(decode("/dir/a b.txt")), "/dir/a b.txt")
    assert.isTrue(Either.isLeft(decode("dir/a.txt")))
    assert.isTrue(Either.isLeft(decode("/a//b")))
    assert.isTrue(Either.isLeft(decode("/a/../b")))
    assert.isTrue(Either.isLeft(decode(42)))
  })

  it("InvalidPath carries input, reason and a message", () => {
    const e = CosPath.parse("/a:b")
    assert.isTrue(Either.isLeft(e))
    if (Either.isLeft(e)) {
      assert.strictEqual(e.left.input, "/a:b")
      assert.strictEqual(e.left.detail, "\":\"")
      assert.include(e.left.message, "ForbiddenCharacter")
    }
  })
})

describe("CosPath encoding", () => {
  it("encode is RFC 3986 per segment with uppercase hex (py/php/cpp form)", () => {
    assert.strictEqual(CosPath.encode(ok(CosPath.parse(validSample))), "/" + validVariants.py)
    assert.strictEqual(CosPath.encodeSegment("a b+ü~!*()'.txt"), sdkVariants.py.slice(4))
    assert.strictEqual(CosPath.encode(CosPath.root), "/")
    assert.strictEqual(CosPath.encode(ok(CosPath.parse("/d i/"))), "/d%20i/")
    assert.strictEqual(CosPath.encode(ok(CosPath.parse("/A-Z_a.z~09"))), "/A-Z_a.z~09")
    assert.strictEqual(CosPath.encode(ok(CosPath.parse("/😀&=#%"))), "/%F0%9F%98%80%26%3D%23%25")
  })

  it("decode accepts every SDK variant of §6.3", () => {
    for (const [sdk, encoded] of Object.entries(sdkVariants)) {
      assert.strictEqual(ok(CosPath.decode(encoded)), sample.slice(1), sdk)
      // decodes, but `*` is not allowed in a COS path
      assert.strictEqual(reasonOf(CosPath.parseRequestPath(`/files/v2/1/bkt/${encoded}`)), "ForbiddenCharacter")
    }
    for (const [sdk, encoded] of Object.entries(validVariants)) {
      assert.strictEqual(ok(CosPath.decode(encoded)), validSample.slice(1), sdk)
      assert.strictEqual(ok(CosPath.parseFileId(`/1250000000/bkt/${encoded}`)).path, validSample, sdk)
      assert.strictEqual(ok(CosPath.parseRequestPath(`/files/v2/1250000000/bkt/${encoded}`)).path, validSample, sdk)
    }
  })

  it("decode keeps + as a plus and fails on malformed escapes", () => {
    assert.strictEqual(ok(CosPath.decode("a+b%2B")), "a+b+")
    for (const bad of ["%", "a%2", "%zz", "%C3", "%FF", "%C3%28", "%ED%A0%80"]) {
      assert.strictEqual(reasonOf(CosPath.decode(bad)), "BadEncoding", bad)
    }
  })

  it("fileId and url", () => {
    const p = ok(CosPath.parse("/dir/a b.txt"))
    assert.strictEqual(CosPath.fileId("1250000000", "bkt", p), "/1250000000/bkt/dir/a%20b.txt")
    assert.strictEqual(CosPath.fileId("1250000000", "bkt", CosPath.root), "/1250000000/bkt/")
    assert.strictEqual(
      CosPath.url("http://127.0.0.1:8080/", "1250000000", "bkt", ok(CosPath.parse("/dir/a b+ü.txt"))),
      "http://127.0.0.1:8080/files/v2/1250000000/bkt/dir/a%20b%2B%C3%BC.txt"
    )
    assert.strictEqual(
      CosPath.url("https://sh.file.myqcloud.com", "1", "b", CosPath.root),
      "https://sh.file.myqcloud.com/files/v2/1/b/"
    )
  })

  it("parseFileId", () => {
    assert.deepStrictEqual(ok(CosPath.parseFileId("/200001/newbucket/tencent_test.jpg")), {
      appId: "200001",
      bucket: "newbucket",
      path: "/tencent_test.jpg"
    })
    assert.strictEqual(ok(CosPath.parseFileId("/1/b/")).path, "/")
    assert.strictEqual(ok(CosPath.parseFileId("/1/b")).path, "/")
    assert.strictEqual(ok(CosPath.parseFileId("/1/b/d/")).path, "/d/")
    assert.strictEqual(reasonOf(CosPath.parseFileId("1/b/x")), "BadFileId")
    assert.strictEqual(reasonOf(CosPath.parseFileId("/1")), "BadFileId")
    assert.strictEqual(reasonOf(CosPath.parseFileId("/x1/b/c")), "BadAppId")
    assert.strictEqual(reasonOf(CosPath.parseFileId("/1/b/a%2Fb")), "EncodedSlash")
    assert.strictEqual(reasonOf(CosPath.parseFileId("/1/b/%2e%2E/x")), "DotSegment")
  })
})

describe("CosPath.parseRequestPath", () => {
  it("parses files, directories and both bucket-root forms", () => {
    assert.deepStrictEqual(ok(CosPath.parseRequestPath("/files/v2/1250000000/bkt/dir/big.bin")), {
      appId: "1250000000",
      bucket: "bkt",
      path: "/dir/big.bin"
    })
    assert.strictEqual(ok(CosPath.parseRequestPath("/files/v2/1250000000/bkt/dir/")).path, "/dir/")
    assert.strictEqual(ok(CosPath.parseRequestPath("/files/v2/1250000000/bkt/")).path, "/")
    assert.strictEqual(ok(CosPath.parseRequestPath("/files/v2/1250000000/bkt")).path, "/")
  })

  it("refuses traversal in any encoding", () => {
    const attempts = [
      "/files/v2/1/b/..",
      "/files/v2/1/b/../x",
      "/files/v2/1/b/a/../../x",
      "/files/v2/1/b/%2e%2e/x",
      "/files/v2/1/b/.%2E/x",
      "/files/v2/1/b/%2E./",
      "/files/v2/1/b/./x",
      "/files/v2/1/b/%2e/x"
    ]
    for (const p of attempts) assert.strictEqual(reasonOf(CosPath.parseRequestPath(p)), "DotSegment", p)
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b/a%2F..%2F..%2Fx")), "EncodedSlash")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b/a%2fb")), "EncodedSlash")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b/..%5C..%5Cx")), "ForbiddenCharacter")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b/a%00b")), "ControlCharacter")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b//x")), "EmptySegment")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b/%20/x")), "EmptySegment")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/..")), "BadBucket")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/%2e%2e/x")), "BadBucket")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/../b/x")), "BadAppId")
  })

  it("refuses other shapes and bad encodings", () => {
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v1/1/b/x")), "BadRequestPath")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1")), "BadRequestPath")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/")), "BadBucket")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b/%E4%B8")), "BadEncoding")
    assert.strictEqual(reasonOf(CosPath.parseRequestPath("/files/v2/1/b/a%3Fb")), "ForbiddenCharacter")
  })
})

// Arbitrary segments: any Unicode text, minus the invalid ones
const segment = FastCheck.string({ unit: "binary", minLength: 1, maxLength: 12 }).filter((s) =>
  Either.isRight(CosPath.parse("/" + s)) && !s.includes("/")
)
const validPath = FastCheck.tuple(FastCheck.array(segment, { minLength: 0, maxLength: 5 }), FastCheck.boolean()).map(
  ([segs, dir]) => "/" + segs.join("/") + (dir && segs.length > 0 ? "/" : "")
)

// Text made of the characters that matter for traversal and escaping
const tricky = FastCheck.array(
  FastCheck.constantFrom(".", "/", "%", "2", "e", "E", "f", "F", "5", "c", "C", "a", "%2e", "%2E", "%2f", "%2F", "%5c"),
  { maxLength: 16 }
).map((parts) => parts.join(""))

describe("CosPath properties", () => {
  it.prop("encode → decode round-trips", [validPath], ([input]) => {
    const path = ok(CosPath.parse(input))
    const encoded = CosPath.encode(path)
    assert.match(encoded, /^(?:[A-Za-z0-9\-_.~/]|%[0-9A-F]{2})*$/)
    assert.strictEqual(ok(CosPath.decode(encoded)), path)
    assert.strictEqual(ok(CosPath.parseRequestPath(`/files/v2/1/bkt${encoded}`)).path, path)
    assert.strictEqual(ok(CosPath.parseFileId(CosPath.fileId("1", "bkt", path))).path, path)
  })

  it.prop("decoding lower-case or js-style encodings gives the same path", [validPath], ([input]) => {
    const path = ok(CosPath.parse(input))
    const js = path.split("/").map(encodeURIComponent).join("/")
    const lower = CosPath.encode(path).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())
    assert.strictEqual(ok(CosPath.parseRequestPath(`/files/v2/1/bkt${js}`)).path, path)
    assert.strictEqual(ok(CosPath.parseRequestPath(`/files/v2/1/bkt${lower}`)).path, path)
  })

  it.prop("parseRequestPath never yields a dot segment or an escape of the bucket", [tricky], ([suffix]) => {
    const result = CosPath.parseRequestPath(`/files/v2/1/bkt/${suffix}`)
    if (Either.isRight(result)) {
      assert.strictEqual(result.right.bucket, "bkt")
      for (const s of CosPath.segments(result.right.path)) {
        assert.notStrictEqual(s, ".")
        assert.notStrictEqual(s, "..")
        assert.notInclude(s, "/")
        assert.notInclude(s, "\\")
      }
      // whatever was accepted is canonical: it re-encodes to a path that parses to itself
      assert.isTrue(Either.isRight(Schema.decodeUnknownEither(CosPath.CosPath)(result.right.path)))
    }
  })

  it.prop(
    "a forbidden character anywhere is rejected",
    [validPath, FastCheck.constantFrom(..."?*:|\\<>\""), FastCheck.nat()],
    ([input, c, at]) => {
      const chars = Array.from(input)
      const i = 1 + (at % chars.length)
      const bad = [...chars.slice(0, i), c, ...chars.slice(i)].join("")
      assert.strictEqual(reasonOf(CosPath.parse(bad)), "ForbiddenCharacter")
    }
  )
})
