/**
 * Behaviour and every error path of the emulator, over a real loopback socket.
 */
import * as CosError from "@cos-v4/core/CosError"
import * as Signature from "@cos-v4/core/Signature"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Emulator from "../src/Emulator.js"
import * as EmulatorStorage from "../src/EmulatorStorage.js"
import * as h from "./helpers.js"

const port = Effect.map(Emulator.Emulator, (e) => e.port)
const call = <A>(f: () => Promise<A>) => Effect.promise(f)
const KiB512 = 524288

const form = (
  p: number,
  path: string,
  fields: Record<string, string>,
  payload?: Buffer,
  headers?: Record<string, string>
) =>
  call(() =>
    h.postMultipart(
      p,
      h.url(path),
      [
        ...Object.entries(fields).map(([name, value]) => ({ name, value })),
        ...(payload === undefined ? [] : [{ name: "filecontent", value: payload }])
      ],
      headers === undefined ? {} : { headers }
    )
  )
const stat = (p: number, path: string) => call(() => h.get(p, `${h.url(path)}?op=stat`))
const expectReason = (
  answer: h.Answer,
  reason: Exclude<CosError.ServerReason, "Unknown">,
  status?: number
) => {
  const c = CosError.codeOf(reason)
  assert.strictEqual(answer.json.code, c.code, JSON.stringify(answer.json))
  assert.strictEqual(answer.json.message, c.message)
  assert.isString(answer.json.request_id)
  assert.isObject(answer.json.data)
  assert.strictEqual(answer.status, status ?? c.status)
  assert.strictEqual(answer.headers["content-type"], "application/json")
}

const init = (p: number, path: string, size: number, extra: Record<string, string> = {}) =>
  form(p, path, { op: "upload_slice_init", filesize: String(size), slice_size: String(KiB512), ...extra })
const data = (
  p: number,
  path: string,
  session: string,
  offset: number,
  bytes: Buffer,
  extra: Record<string, string> = {}
) => form(p, path, { op: "upload_slice_data", session, offset: String(offset), ...extra }, bytes)
const finish = (p: number, path: string, session: string, size: number, extra: Record<string, string> = {}) =>
  form(p, path, { op: "upload_slice_finish", session, filesize: String(size), ...extra })
const upload = (p: number, path: string, bytes: Buffer, extra: Record<string, string> = {}) =>
  form(p, path, { op: "upload", ...extra }, bytes)

/** A complete slice upload; returns the finish answer. */
const sliceUpload = (p: number, path: string, file: Buffer, extra: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const i = yield* init(p, path, file.length, extra)
    if (i.json.code !== 0) return i
    assert.strictEqual(i.json.code, 0, JSON.stringify(i.json))
    const session = i.json.data.session
    for (let off = 0; off < file.length; off += KiB512) {
      const d = yield* data(p, path, session, off, file.subarray(off, off + KiB512))
      assert.strictEqual(d.json.code, 0)
    }
    return yield* finish(p, path, session, file.length, extra.sha === undefined ? {} : { sha: extra.sha })
  })

describe("Emulator", () => {
  layer(Emulator.layerTest(), { excludeTestServices: true })((it) => {
    it.effect("slice errors: offset, length, session, missing slices, size, sha, uploadparts, md5", () =>
      Effect.gen(function*() {
        const p = yield* port
        const file = h.patternFile(KiB512 * 2 + 10)
        const sha = h.sha1(file)
        const i = yield* init(p, "/e/a.bin", file.length, { sha })
        assert.strictEqual(i.json.code, 0, JSON.stringify(i.json))
        const s = i.json.data.session
        expectReason(yield* data(p, "/e/a.bin", s, 100, file.subarray(0, 10)), "InvalidOffset")
        expectReason(yield* data(p, "/e/a.bin", s, KiB512 * 3, file.subarray(0, 10)), "InvalidOffset")
        expectReason(yield* data(p, "/e/a.bin", s, 0, file.subarray(0, 10)), "InvalidSliceLength")
        expectReason(yield* data(p, "/e/a.bin", "nope", 0, file.subarray(0, KiB512)), "SessionNotFound")
        expectReason(yield* data(p, "/e/other.bin", s, 0, file.subarray(0, KiB512)), "SessionMismatch")
        expectReason(yield* data(p, "/e/a.bin", s, 0, file.subarray(0, KiB512), { sha: "0".repeat(40) }), "ShaMismatch")
        expectReason(
          yield* data(p, "/e/a.bin", s, 0, file.subarray(0, KiB512), { datamd5: "0".repeat(32) }),
          "Md5Mismatch"
        )
        expectReason(
          yield* form(p, "/e/a.bin", { op: "upload_slice_data", session: s, offset: "0" }),
          "InvalidParameter"
        )
        assert.strictEqual((yield* data(p, "/e/a.bin", s, 0, file.subarray(0, KiB512))).json.code, 0)
        // idempotent re-send
        assert.strictEqual((yield* data(p, "/e/a.bin", s, 0, file.subarray(0, KiB512))).json.code, 0)
        expectReason(yield* finish(p, "/e/a.bin", s, file.length, { sha }), "SliceMissing")
        expectReason(yield* finish(p, "/e/a.bin", s, file.length + 1, { sha }), "UploadNotFinished")
        expectReason(yield* finish(p, "/e/a.bin", s, file.length), "ShaRequired")
        // a wrong slice content → the assembled sha differs
        const bad = Buffer.from(file.subarray(KiB512, 2 * KiB512))
        bad[0] = bad[0]! ^ 1
        yield* data(p, "/e/a.bin", s, KiB512, bad)
        yield* data(p, "/e/a.bin", s, 2 * KiB512, file.subarray(2 * KiB512))
        expectReason(yield* finish(p, "/e/a.bin", s, file.length, { sha }), "ShaMismatch")
        // the session survives a failed finish: re-send the bad slice and finish
        yield* data(p, "/e/a.bin", s, KiB512, file.subarray(KiB512, 2 * KiB512))
        const list = yield* form(p, "/e/a.bin", { op: "upload_slice_list" })
        assert.deepStrictEqual(list.json.data.listparts, [
          { offset: 0, datalen: KiB512 },
          { offset: KiB512, datalen: KiB512 },
          { offset: 2 * KiB512, datalen: 10 }
        ])
        assert.strictEqual(list.json.data.sha, sha)
        assert.strictEqual((yield* finish(p, "/e/a.bin", s, file.length, { sha })).json.code, 0)
        expectReason(yield* finish(p, "/e/a.bin", s, file.length, { sha }), "SessionNotFound")

        // uploadparts: inconsistent at init, wrong intermediate state at finish
        const parts = (states: Array<string>) =>
          JSON.stringify(states.map((datasha, k) => ({
            offset: k * KiB512,
            datalen: Math.min(KiB512, file.length - k * KiB512),
            datasha
          })))
        expectReason(
          yield* init(p, "/e/b.bin", file.length, { sha, uploadparts: parts(["a".repeat(40), sha]) }),
          "PartsMismatch"
        )
        // another content (the first file is stored now and would be an instant upload)
        const file2 = Buffer.concat([file.subarray(0, file.length - 1), Buffer.from([7])])
        const sha2 = h.sha1(file2)
        const r = yield* init(p, "/e/c.bin", file2.length, {
          uploadparts: parts(["a".repeat(40), "b".repeat(40), sha2])
        })
        // sha taken from the last datasha; the content matches it but not the intermediate states
        assert.strictEqual(r.json.code, 0, JSON.stringify(r.json))
        const s2 = r.json.data.session
        for (let off = 0; off < file2.length; off += KiB512) {
          yield* data(p, "/e/c.bin", s2, off, file2.subarray(off, off + KiB512))
        }
        expectReason(yield* finish(p, "/e/c.bin", s2, file2.length, { sha: sha2 }), "PartsMismatch")
        expectReason(yield* init(p, "/e/d.bin", -1 as number), "InvalidParameter")
      }))

    it.effect("instant upload, insertOnly, simple upload errors", () =>
      Effect.gen(function*() {
        const p = yield* port
        const file = h.patternFile(KiB512 + 3)
        const sha = h.sha1(file)
        assert.strictEqual((yield* sliceUpload(p, "/i/orig.bin", file, { sha })).json.code, 0)
        // 秒传: same sha + size elsewhere in the bucket → access info, no session, file created
        const inst = yield* init(p, "/i/copy.bin", file.length, { sha })
        assert.strictEqual(inst.json.code, 0)
        assert.isUndefined(inst.json.data.session)
        assert.strictEqual(inst.json.data.resource_path, `/${h.appId}/${h.bucket}/i/copy.bin`)
        assert.isTrue((yield* call(() => h.get(p, h.url("/i/copy.bin")))).body.equals(file))
        // insertOnly=1 + identical content → success; different content → SameFileUploaded
        assert.strictEqual((yield* upload(p, "/i/s.txt", Buffer.from("one"))).json.code, 0)
        assert.strictEqual((yield* upload(p, "/i/s.txt", Buffer.from("one"), { insertOnly: "1" })).json.code, 0)
        expectReason(yield* upload(p, "/i/s.txt", Buffer.from("two"), { insertOnly: "1" }), "SameFileUploaded")
        expectReason(yield* upload(p, "/i/s.txt", Buffer.from("two")), "SameFileUploaded")
        assert.strictEqual((yield* upload(p, "/i/s.txt", Buffer.from("two"), { insertOnly: "0" })).json.code, 0)
        assert.strictEqual((yield* call(() => h.get(p, h.url("/i/s.txt")))).body.toString(), "two")
        expectReason(yield* init(p, "/i/s.txt", 3, { sha: h.sha1(Buffer.from("new")) }), "SameFileUploaded")
        // slice upload of identical content with insertOnly → success
        assert.strictEqual((yield* sliceUpload(p, "/i/orig.bin", file)).json.code, 0)
        expectReason(yield* upload(p, "/i/x.txt", Buffer.from("abc"), { sha: "1".repeat(40) }), "ShaMismatch")
        expectReason(yield* form(p, "/i/x.txt", { op: "upload" }), "InvalidParameter")
        expectReason(yield* upload(p, "/i/dir/", Buffer.from("abc")), "NoSuchOp")
        expectReason(yield* form(p, "/i/x.txt", { op: "frobnicate" }), "NoSuchOp")
        // an unfinished upload blocks init and simple upload; delete discards it (php)
        const open = yield* init(p, "/i/open.bin", 10)
        expectReason(yield* init(p, "/i/open.bin", 10), "UploadNotFinished")
        expectReason(yield* upload(p, "/i/open.bin", Buffer.from("x")), "UploadNotFinished")
        const st = yield* stat(p, "/i/open.bin")
        assert.strictEqual(st.json.data.filesize, 10)
        assert.strictEqual(st.json.data.filelen, 0)
        assert.strictEqual((yield* call(() => h.postJson(p, h.url("/i/open.bin"), { op: "delete" }))).json.code, 0)
        expectReason(yield* data(p, "/i/open.bin", open.json.data.session, 0, Buffer.alloc(10)), "SessionNotFound")
        assert.strictEqual((yield* init(p, "/i/open.bin", 10)).json.code, 0)
        // concurrent inits for one path: exactly one session
        const racing = yield* Effect.all([
          init(p, "/i/race.bin", 10),
          init(p, "/i/race.bin", 10),
          init(p, "/i/race.bin", 10)
        ], {
          concurrency: "unbounded"
        })
        assert.deepStrictEqual(racing.map((a) => a.json.code).sort(), [-4019, -4019, 0])
        expectReason(yield* call(() => h.request(p, { path: "/files/v2/1/b/a/../x" })), "InvalidPath")
        expectReason(yield* call(() => h.request(p, { path: "/files/v2/1/b/a%2Fb" })), "InvalidPath")
        expectReason(yield* call(() => h.request(p, { path: "/other" })), "InvalidPath")
      }))

    it.effect("directories: create, stat, list pagination, delete of empty dirs only, update, copy", () =>
      Effect.gen(function*() {
        const p = yield* port
        const create = (path: string) => call(() => h.postJson(p, h.url(path), { op: "create", biz_attr: "d" }))
        assert.strictEqual((yield* create("/d/")).json.code, 0)
        expectReason(yield* create("/d/"), "PathConflict")
        expectReason(yield* create("/d/file"), "NoSuchOp")
        assert.strictEqual((yield* create("/d/sub/")).json.code, 0)
        for (const n of ["a", "b", "c", "d"]) yield* upload(p, `/d/${n}.txt`, Buffer.from(n))
        const dirStat = yield* stat(p, "/d/")
        assert.strictEqual(dirStat.json.data.biz_attr, "d")
        const list = (q: string) => call(() => h.get(p, `${h.url("/d/")}?op=list&${q}`))
        const page1 = yield* list("num=2")
        assert.deepStrictEqual(page1.json.data.infos.map((e: { name: string }) => e.name), ["a.txt", "b.txt"])
        assert.isFalse(page1.json.data.listover)
        const page2 = yield* list(`num=2&context=${encodeURIComponent(page1.json.data.context)}`)
        assert.deepStrictEqual(page2.json.data.infos.map((e: { name: string }) => e.name), ["c.txt", "d.txt"])
        const page3 = yield* list(`num=2&context=${encodeURIComponent(page2.json.data.context)}`)
        assert.deepStrictEqual(page3.json.data.infos.map((e: { name: string }) => e.name), ["sub/"])
        assert.isTrue(page3.json.data.listover)
        assert.strictEqual(page3.json.data.dircount, 1)
        const dirs = yield* list("pattern=eListDirOnly")
        assert.deepStrictEqual(dirs.json.data.infos.map((e: { name: string }) => e.name), ["sub/"])
        const desc = yield* list("pattern=eListFileOnly&order=1&num=3")
        assert.deepStrictEqual(desc.json.data.infos.map((e: { name: string }) => e.name), ["d.txt", "c.txt", "b.txt"])
        const prefix = yield* call(() => h.get(p, `${h.url("/d/b")}?op=list`))
        assert.deepStrictEqual(prefix.json.data.infos.map((e: { name: string }) => e.name), ["b.txt"])
        expectReason(yield* list("num=0"), "InvalidParameter")
        expectReason(yield* call(() => h.get(p, `${h.url("/nodir/")}?op=list`)), "NotFound")
        // delete: not empty → DirectoryNotEmpty; empty → ok; root refused
        const del = (path: string) => call(() => h.postJson(p, h.url(path), { op: "delete" }))
        expectReason(yield* del("/d/"), "DirectoryNotEmpty")
        assert.strictEqual((yield* del("/d/sub/")).json.code, 0)
        expectReason(yield* del("/d/sub/"), "NotFound")
        expectReason(yield* del("/"), "InvalidPath")
        expectReason(yield* stat(p, "/nothing.txt"), "NotFound")
        // update attributes, then stat
        const upd = yield* call(() =>
          h.postJson(p, h.url("/d/a.txt"), {
            op: "update",
            biz_attr: "new",
            authority: "eWPrivateRPublic",
            custom_headers: { "Content-Type": "text/plain" }
          })
        )
        assert.strictEqual(upd.json.code, 0)
        const st = yield* stat(p, "/d/a.txt")
        assert.strictEqual(st.json.data.biz_attr, "new")
        assert.strictEqual(st.json.data.authority, "eWPrivateRPublic")
        assert.deepStrictEqual(st.json.data.custom_headers, { "Content-Type": "text/plain" })
        expectReason(yield* call(() => h.postJson(p, h.url("/d/zz.txt"), { op: "update", biz_attr: "x" })), "NotFound")
        // copy keeps the source; move onto an existing file needs to_over_write
        const copy = yield* form(p, "/d/a.txt", { op: "copy", dest_fileid: "/d/copy.txt" })
        assert.strictEqual(copy.json.code, 0)
        assert.strictEqual((yield* call(() => h.get(p, h.url("/d/copy.txt")))).body.toString(), "a")
        expectReason(yield* form(p, "/d/a.txt", { op: "move", dest_fileid: "/d/b.txt" }), "PathConflict")
        assert.strictEqual(
          (yield* form(p, "/d/a.txt", { op: "move", dest_fileid: "/d/b.txt", to_over_write: "1" })).json.code,
          0
        )
        assert.strictEqual((yield* call(() => h.get(p, h.url("/d/b.txt")))).body.toString(), "a")
        expectReason(yield* form(p, "/d/a.txt", { op: "move", dest_fileid: "/d/q.txt" }), "NotFound")
        expectReason(yield* form(p, "/d/b.txt", { op: "move", dest_fileid: "/d/../q.txt" }), "InvalidPath")
        // parents are created automatically by default
        yield* upload(p, "/auto/x/y.txt", Buffer.from("y"))
        assert.strictEqual((yield* stat(p, "/auto/x/")).json.code, 0)
      }))
  })

  const credentials = [{ secretId: h.secretId, secretKey: Redacted.make(h.secretKey) }]

  layer(
    Emulator.layerTest({ credentials, auth: "lenient", appId: h.appId, buckets: [h.bucket] }),
    { excludeTestServices: true }
  )((it) => {
    it.effect("signatures: header or ?sign=, HMAC, expiry, appid/bucket, replay, resource scope", () =>
      Effect.gen(function*() {
        const p = yield* port
        const auth = (sign: string) => ({ Authorization: sign })
        const up = (path: string, sign: string) => form(p, path, { op: "upload" }, Buffer.from("x"), auth(sign))
        assert.strictEqual((yield* up("/s/a.txt", h.signMulti())).json.code, 0)
        assert.strictEqual((yield* up("/s/b.txt", h.signMulti(`/${h.appId}/${h.bucket}/s/b.txt`))).json.code, 0)
        assert.strictEqual((yield* up("/s/c.txt", h.signMulti(`/${h.appId}/${h.bucket}/s/`))).json.code, 0)
        expectReason(yield* up("/s/d.txt", h.signMulti(`/${h.appId}/${h.bucket}/t/`)), "SignatureScope")
        expectReason(yield* form(p, "/s/e.txt", { op: "upload" }, Buffer.from("x")), "SignatureMalformed")
        expectReason(yield* up("/s/e.txt", "!!!"), "SignatureMalformed")
        const other = Redacted.value(Signature.signMulti({
          credentials: { ...h.credentials, secretKey: Redacted.make("wrong") },
          bucket: h.bucket,
          expiresAt: h.nowSeconds() + 60,
          now: h.nowSeconds(),
          rand: 1
        }))
        expectReason(yield* up("/s/e.txt", other), "AuthFailed")
        expectReason(yield* up("/s/e.txt", h.signMulti("", -10)), "AuthExpired")
        const forBucket = (b: string, a = h.appId) =>
          Redacted.value(Signature.signMulti({
            credentials: { ...h.credentials, appId: a },
            bucket: b,
            expiresAt: h.nowSeconds() + 60,
            now: h.nowSeconds(),
            rand: 2
          }))
        expectReason(yield* up("/s/e.txt", forBucket("other")), "BucketMismatch")
        expectReason(yield* up("/s/e.txt", forBucket(h.bucket, "999")), "AppIdMismatch")
        // the served appid/bucket
        expectReason(yield* call(() => h.get(p, `/files/v2/999/${h.bucket}/x?op=stat`)), "AppIdMismatch")
        expectReason(yield* call(() => h.get(p, `/files/v2/${h.appId}/nobucket/x?op=stat`)), "NotFound")
        // the signature in the query (js), percent-encoded once
        const viaQuery = yield* call(() =>
          h.get(p, `${h.url("/s/a.txt")}?op=stat&sign=${encodeURIComponent(h.signMulti())}`)
        )
        assert.strictEqual(viaQuery.json.code, 0)
        // single-effect delete: once only; f percent-encoded as js does
        const once = h.signOnce(`/${h.appId}/${h.bucket}/s/a.txt`)
        const del = () => call(() => h.postJson(p, h.url("/s/a.txt"), { op: "delete" }, auth(once)))
        assert.strictEqual((yield* del()).json.code, 0)
        expectReason(yield* del(), "SignatureReplayed")
        const wrongF = h.signOnce(`/${h.appId}/${h.bucket}/s/zzz.txt`)
        expectReason(
          yield* call(() => h.postJson(p, h.url("/s/b.txt"), { op: "delete" }, auth(wrongF))),
          "SignatureScope"
        )
        // lenient: a multi-effect delete is accepted (wx demo)
        assert.strictEqual(
          (yield* call(() => h.postJson(p, h.url("/s/b.txt"), { op: "delete" }, auth(h.signMulti())))).json.code,
          0
        )
      }))

    it.effect("signature vectors of protocol.md §6.5 (expiry in the past)", () =>
      Effect.gen(function*() {
        const p = yield* port
        const vector =
          "NcBvSkO5dteVIOj1vD1LoOCUbhhhPTEyNTAwMDAwMDAmaz1BS0lEdGVzdCZlPTE3MDAwMDA2MDAmdD0xNzAwMDAwMDAwJnI9" +
          "MTIzNDU2Nzg5JmY9LzEyNTAwMDAwMDAvYmt0L2Rpci9hJTIwYi50eHQmYj1ia3Q="
        const produced = Signature.signMulti({
          credentials: h.credentials,
          bucket: h.bucket,
          expiresAt: 1700000600,
          now: 1700000000,
          rand: 123456789,
          fileId: "/1250000000/bkt/dir/a%20b.txt"
        })
        assert.strictEqual(Redacted.value(produced), vector)
        const path = "/dir/a%20b.txt"
        // the vector expired in 2023: refused for init...
        expectReason(
          yield* form(p, path, { op: "upload_slice_init", filesize: "1" }, undefined, { Authorization: vector }),
          "AuthExpired"
        )
        // ...but slice data of an open session does not re-check expiry (php/cpp/net reuse one signature):
        // the HMAC verifies and the request reaches the session lookup
        expectReason(
          yield* form(p, path, { op: "upload_slice_data", session: "s", offset: "0" }, Buffer.from("x"), {
            Authorization: vector
          }),
          "SessionNotFound"
        )
        const tampered = vector.slice(0, 4) + (vector[4] === "A" ? "B" : "A") + vector.slice(5)
        expectReason(
          yield* form(p, path, { op: "upload_slice_data", session: "s", offset: "0" }, Buffer.from("x"), {
            Authorization: tampered
          }),
          "AuthFailed"
        )
      }))
  })

  layer(
    Emulator.layerTest({ credentials, auth: "strict" }),
    { excludeTestServices: true }
  )((it) => {
    it.effect("strict: single-effect required for delete, multi-effect for uploads, slice data re-checks expiry", () =>
      Effect.gen(function*() {
        const p = yield* port
        const auth = (sign: string) => ({ Authorization: sign })
        assert.strictEqual(
          (yield* form(p, "/x.txt", { op: "upload" }, Buffer.from("x"), auth(h.signMulti()))).json.code,
          0
        )
        expectReason(
          yield* call(() => h.postJson(p, h.url("/x.txt"), { op: "delete" }, auth(h.signMulti()))),
          "SignatureScope"
        )
        expectReason(
          yield* form(
            p,
            "/y.txt",
            { op: "upload" },
            Buffer.from("x"),
            auth(h.signOnce(`/${h.appId}/${h.bucket}/y.txt`))
          ),
          "SignatureScope"
        )
        expectReason(
          yield* form(
            p,
            "/y.txt",
            { op: "upload_slice_data", session: "s", offset: "0" },
            Buffer.from("x"),
            auth(h.signMulti("", -5))
          ),
          "AuthExpired"
        )
        const once = h.signOnce(`/${h.appId}/${h.bucket}/x.txt`)
        assert.strictEqual(
          (yield* call(() => h.postJson(p, h.url("/x.txt"), { op: "delete" }, auth(once)))).json.code,
          0
        )
      }))
  })

  layer(
    Emulator.layerTest({ requireParent: true, maxSessionsPerBucket: 2, maxBodyBytes: 64 * 1024, idleTimeout: 300 }),
    { excludeTestServices: true }
  )((it) => {
    it.effect("limits: parent required, sessions per bucket, body size, slow bodies", () =>
      Effect.gen(function*() {
        const p = yield* port
        expectReason(yield* upload(p, "/missing/a.txt", Buffer.from("a")), "ParentNotFound")
        expectReason(yield* init(p, "/missing/a.txt", 10), "ParentNotFound")
        assert.strictEqual((yield* upload(p, "/a.txt", Buffer.from("a"))).json.code, 0)
        assert.strictEqual((yield* init(p, "/s1", 10)).json.code, 0)
        assert.strictEqual((yield* init(p, "/s2", 10)).json.code, 0)
        expectReason(yield* init(p, "/s3", 10), "TooManySessions")
        expectReason(yield* upload(p, "/big.bin", Buffer.alloc(100 * 1024)), "TooLarge")
        // refused before the body: no 100 Continue
        const early = yield* call(() =>
          h.raw(
            p,
            `POST ${h.url("/big.bin")} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n` +
              `Content-Length: 10000000\r\nExpect: 100-continue\r\n\r\n`,
            Buffer.alloc(0),
            true
          )
        )
        assert.isFalse(early.sawContinue)
        expectReason(early, "TooLarge")
        // headers and part of the body, then silence
        const slow = yield* call(() =>
          h.raw(
            p,
            `POST ${h.url("/slow.txt")} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n` +
              `Content-Length: 1000\r\n\r\n--b\r\n`
          )
        )
        expectReason(slow, "RequestTimeout")
        // oversized headers and garbage still get a JSON envelope
        const big = yield* call(() =>
          h.raw(p, `GET ${h.url("/a.txt")}?op=stat HTTP/1.1\r\nX-Big: ${"a".repeat(20000)}\r\n\r\n`)
        )
        expectReason(big, "TooLarge", 431)
        const garbage = yield* call(() => h.raw(p, "NOT HTTP AT ALL\r\n\r\n"))
        expectReason(garbage, "InvalidParameter", 400)
      }))
  })

  const diskDir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "cos-emu-internal-"))
  layer(
    Emulator.layer({ port: 0 }).pipe(
      Layer.provide(EmulatorStorage.layerDisk({ dataDir: diskDir, fsync: false })),
      // the emulator logs the storage failure this block provokes; keep the test output clean
      Layer.provide(Logger.minimumLogLevel(LogLevel.None))
    ),
    { excludeTestServices: true }
  )((it) => {
    it.effect("a port already in use is a ListenError with reason AddressInUse", () =>
      Effect.gen(function*() {
        const p = yield* port
        const error = yield* Layer.build(Emulator.layer({ host: "0.0.0.0", port: p })).pipe(
          Effect.provide(EmulatorStorage.layerMemory),
          Effect.scoped,
          Effect.flip
        )
        assert.strictEqual(error._tag, "ListenError")
        assert.deepStrictEqual(error._tag === "ListenError" ? [error.reason, error.port] : [], ["AddressInUse", p])
      }))

    it.effect("a storage failure is an InternalError envelope with HTTP 500", () =>
      Effect.gen(function*() {
        const p = yield* port
        const i = yield* init(p, "/broken.bin", 10)
        assert.strictEqual(i.json.code, 0)
        // the session's bytes vanish underneath the emulator
        fs.rmSync(nodePath.join(diskDir, "sessions"), { recursive: true, force: true })
        expectReason(yield* data(p, "/broken.bin", i.json.data.session, 0, Buffer.alloc(10)), "InternalError")
        fs.rmSync(diskDir, { recursive: true, force: true })
      }))
  })
})
