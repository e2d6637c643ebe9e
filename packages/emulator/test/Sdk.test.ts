/**
 * Each official SDK's wire format (protocol.md §1.3, §8, §13, §14), reproduced by hand against a real emulator
 * on 127.0.0.1, port 0.
 */
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Emulator from "../src/Emulator.js"
import * as h from "./helpers.js"

const slice = 1048576
// protocol.md §3.4: 2 098 152 bytes, 1 MiB granularity
const vectorFile = h.patternFile(2 * slice + 1000)
const vectorParts = [
  { offset: 0, datalen: 1048576, datasha: "463935c7eea4ca2705d0f481ecedb31f4d0f3a96" },
  { offset: 1048576, datalen: 1048576, datasha: "657c72d675f1e792607e5c0a7405f66cbdb8c290" },
  { offset: 2097152, datalen: 1000, datasha: "0e0aacd66ad44901df7d1a40d82ee63f4512b822" }
]
const vectorSha = "0e0aacd66ad44901df7d1a40d82ee63f4512b822"

const port = Effect.map(Emulator.Emulator, (e) => e.port)
const call = <A>(f: () => Promise<A>) => Effect.promise(f)

const download = (p: number, path: string) => call(() => h.get(p, h.url(path)))

describe("official SDK wire formats", () => {
  layer(Emulator.layerTest(), { excludeTestServices: true })((it) => {
    it.effect("py: text fields as file parts, op last, py2 uploadparts key order, JSON delete", () =>
      Effect.gen(function*() {
        const p = yield* port
        const path = "/py/big.bin"
        const asFile = (name: string, value: string | Buffer) => ({ name, value, filename: name })
        // py2 (dict order) init: slice_size, biz_attr, uploadparts, sha, filesize, insertOnly, op
        const parts = JSON.stringify(
          vectorParts.map((x) => ({ datalen: x.datalen, datasha: x.datasha, offset: x.offset }))
        )
          .replace(/,/g, ", ").replace(/:/g, ": ")
        const init = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            asFile("slice_size", String(slice)),
            asFile("biz_attr", ""),
            asFile("uploadparts", parts),
            asFile("sha", vectorSha),
            asFile("filesize", String(vectorFile.length)),
            asFile("insertOnly", "1"),
            asFile("op", "upload_slice_init")
          ])
        )
        assert.strictEqual(init.status, 200)
        assert.strictEqual(init.json.code, 0)
        assert.strictEqual(init.json.message, "SUCCESS")
        assert.strictEqual(init.json.data.slice_size, slice)
        assert.strictEqual(init.json.data.serial_upload, 0)
        assert.strictEqual(init.headers["content-type"], "application/json")
        const session: string = init.json.data.session
        for (let off = 0; off < vectorFile.length; off += slice) {
          // py2 data order: sha, offset, session, filecontent, op
          const data = yield* call(() =>
            h.postMultipart(p, h.url(path), [
              asFile("sha", vectorSha),
              asFile("offset", String(off)),
              asFile("session", session),
              { name: "filecontent", value: vectorFile.subarray(off, off + slice), filename: "filecontent" },
              asFile("op", "upload_slice_data")
            ])
          )
          assert.strictEqual(data.json.code, 0)
          assert.deepStrictEqual(data.json.data, {
            session,
            offset: off,
            datalen: Math.min(slice, vectorFile.length - off),
            serial_upload: 0
          })
          assert.isUndefined(data.json.data.access_url)
        }
        const fin = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            asFile("sha", vectorSha),
            asFile("session", session),
            asFile("filesize", String(vectorFile.length)),
            asFile("op", "upload_slice_finish")
          ])
        )
        assert.strictEqual(fin.json.code, 0)
        assert.strictEqual(fin.json.data.resource_path, `/${h.appId}/${h.bucket}${path}`)
        const stat = yield* call(() => h.get(p, h.url(path) + "?op=stat"))
        assert.strictEqual(stat.json.data.sha, vectorSha)
        assert.strictEqual(stat.json.data.filesize, vectorFile.length)
        const got = yield* download(p, path)
        assert.isTrue(got.body.equals(vectorFile))
        // py's delete: exactly {"op": "delete"} with Content-Type application/json
        const del = yield* call(() =>
          h.request(p, {
            path: h.url(path),
            headers: { "content-type": "application/json" },
            body: `{"op": "delete"}`
          })
        )
        assert.strictEqual(del.json.code, 0)
        const gone = yield* call(() => h.get(p, h.url(path) + "?op=stat"))
        assert.strictEqual(gone.json.code, -4021)
      }))

    it.effect("java: fileContent octet-stream, text/plain fields, -4019 then a JSON upload_slice_list", () =>
      Effect.gen(function*() {
        const p = yield* port
        const path = "/java/f.bin"
        const file = h.patternFile(3 * slice + 7)
        const text = (name: string, value: string) => ({ name, value, contentType: "text/plain; charset=UTF-8" })
        const initParts = [
          text("op", "upload_slice_init"),
          text("filesize", String(file.length)),
          text("slice_size", String(2 * slice)),
          text("biz_attr", "attr"),
          text("insertOnly", "1")
        ]
        const init = yield* call(() => h.postMultipart(p, h.url(path), initParts))
        assert.strictEqual(init.json.data.slice_size, 2 * slice)
        const session = init.json.data.session
        const first = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            text("op", "upload_slice_data"),
            text("session", session),
            text("offset", "0"),
            { name: "fileContent", value: file.subarray(0, 2 * slice), contentType: "application/octet-stream" }
          ])
        )
        assert.strictEqual(first.json.code, 0)
        // java resumes: init again → -4019 → list with a JSON body
        const again = yield* call(() => h.postMultipart(p, h.url(path), initParts))
        assert.strictEqual(again.json.code, -4019)
        assert.strictEqual(again.json.message, "_ERROR_FILE_NOT_FINISH_UPLOAD")
        const list = yield* call(() => h.postJson(p, h.url(path), { op: "upload_slice_list" }))
        assert.strictEqual(list.status, 200)
        assert.deepStrictEqual(list.json.data, {
          session,
          filesize: file.length,
          slice_size: 2 * slice,
          serial_upload: 0,
          listparts: [{ offset: 0, datalen: 2 * slice }]
        })
        const last = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            text("op", "upload_slice_data"),
            text("session", session),
            text("offset", String(2 * slice)),
            { name: "fileContent", value: file.subarray(2 * slice), contentType: "application/octet-stream" }
          ])
        )
        assert.strictEqual(last.json.data.datalen, slice + 7)
        const fin = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            text("op", "upload_slice_finish"),
            text("session", session),
            text("filesize", String(file.length))
          ])
        )
        assert.strictEqual(fin.json.code, 0)
        const stat = yield* call(() => h.get(p, h.url(path) + "?op=stat"))
        assert.strictEqual(stat.json.data.sha, h.sha1(file))
        assert.strictEqual(stat.json.data.biz_attr, "attr")
      }))

    it.effect("js: ?sign= in the query, list first (404), duplicated fields on retry, CORS", () =>
      Effect.gen(function*() {
        const p = yield* port
        const path = "/js/a file.bin"
        const encoded = h.url("/js/a%20file.bin")
        const file = h.patternFile(slice + 100)
        const sha = h.sha1(file)
        const q = (op?: string) => `${encoded}?sign=${encodeURIComponent(h.signMulti())}${op ? `&op=${op}` : ""}`
        const list = yield* call(() => h.postMultipart(p, q(), [{ name: "op", value: "upload_slice_list" }]))
        assert.strictEqual(list.status, 404)
        assert.strictEqual(list.json.code, -4021)
        assert.strictEqual(list.headers["access-control-allow-origin"], "*")
        const init = yield* call(() =>
          h.postMultipart(p, q(), [
            {
              name: "uploadparts",
              value: JSON.stringify([
                { offset: 0, datalen: slice, datasha: "463935c7eea4ca2705d0f481ecedb31f4d0f3a96" },
                { offset: slice, datalen: 100, datasha: sha }
              ])
            },
            { name: "sha", value: sha },
            { name: "op", value: "upload_slice_init" },
            { name: "filesize", value: String(file.length) },
            { name: "slice_size", value: String(slice) },
            { name: "biz_attr", value: "" },
            { name: "insertOnly", value: "1" }
          ])
        )
        assert.strictEqual(init.json.code, 0, JSON.stringify(init.json))
        const session = init.json.data.session
        const fields = (off: number) => [
          { name: "sliceSize", value: String(slice) },
          { name: "op", value: "upload_slice_data" },
          { name: "session", value: session },
          { name: "offset", value: String(off) },
          { name: "sha", value: sha },
          {
            name: "fileContent",
            value: file.subarray(off, off + slice),
            filename: "blob",
            contentType: "application/octet-stream"
          }
        ]
        // preflight of a slice
        const pre = yield* call(() =>
          h.request(p, {
            method: "OPTIONS",
            path: q(),
            headers: { "access-control-request-method": "POST", origin: "http://x" }
          })
        )
        assert.strictEqual(pre.status, 204)
        assert.strictEqual(pre.headers["access-control-allow-origin"], "*")
        assert.include(String(pre.headers["access-control-allow-methods"]), "POST")
        // a retry: the same FormData appended twice → every field twice, the first wins
        const retry = yield* call(() => h.postMultipart(p, q(), [...fields(0), ...fields(slice)]))
        assert.strictEqual(retry.json.code, 0)
        assert.strictEqual(retry.json.data.offset, 0)
        assert.strictEqual(retry.json.data.datalen, slice)
        const second = yield* call(() => h.postMultipart(p, q(), fields(slice)))
        assert.strictEqual(second.json.data.datalen, 100)
        const fin = yield* call(() =>
          h.postMultipart(p, q(), [
            { name: "sha", value: sha },
            { name: "op", value: "upload_slice_finish" },
            { name: "filesize", value: String(file.length) },
            { name: "session", value: session }
          ])
        )
        assert.strictEqual(fin.json.code, 0)
        const stat = yield* call(() => h.get(p, q("stat")))
        assert.strictEqual(stat.json.data.name, "a file.bin")
        assert.strictEqual(stat.json.data.sha, sha)
        // a finished path: list answers the access info
        const done = yield* call(() => h.postMultipart(p, q(), [{ name: "op", value: "upload_slice_list" }]))
        assert.strictEqual(done.json.data.resource_path, `/${h.appId}/${h.bucket}${path}`)
      }))

    it.effect("php: Expect 100-continue, datamd5, empty insertOnly at init", () =>
      Effect.gen(function*() {
        const p = yield* port
        const path = "/php/f.bin"
        const file = h.patternFile(slice + 5)
        const init = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            { name: "op", value: "upload_slice_init" },
            { name: "filesize", value: String(file.length) },
            { name: "slice_size", value: String(slice) },
            { name: "insertOnly", value: "" }
          ])
        )
        assert.strictEqual(init.json.code, 0)
        const session = init.json.data.session
        for (const off of [0, slice]) {
          const chunk = file.subarray(off, off + slice)
          const mp = h.multipart([
            { name: "op", value: "upload_slice_data" },
            { name: "session", value: session },
            { name: "offset", value: String(off) },
            { name: "filecontent", value: chunk },
            { name: "datamd5", value: h.md5(chunk) }
          ])
          const head = `POST ${h.url(path)} HTTP/1.1\r\nHost: 127.0.0.1\r\nMethod:POST\r\n` +
            `Content-Type: ${mp.contentType}\r\nContent-Length: ${mp.body.length}\r\nExpect: 100-continue\r\n` +
            `Connection: close\r\n\r\n`
          const res = yield* call(() => h.raw(p, head, mp.body, true))
          assert.isTrue(res.sawContinue)
          assert.strictEqual(res.json.code, 0)
          assert.strictEqual(res.json.data.datamd5, h.md5(chunk))
        }
        const fin = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            { name: "op", value: "upload_slice_finish" },
            { name: "session", value: session },
            { name: "filesize", value: String(file.length) }
          ])
        )
        assert.strictEqual(fin.json.code, 0)
        assert.isTrue((yield* download(p, path)).body.equals(file))
      }))

    it.effect("cpp: sorted fields, filename=\"data\", content last", () =>
      Effect.gen(function*() {
        const p = yield* port
        const path = "/cpp/f.bin"
        const file = h.patternFile(600_000)
        const sha = h.sha1(file)
        const init = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            { name: "filesize", value: String(file.length) },
            { name: "insertOnly", value: "1" },
            { name: "op", value: "upload_slice_init" },
            { name: "sha", value: sha },
            { name: "slice_size", value: "524288" },
            {
              name: "uploadparts",
              value: JSON.stringify([{
                datalen: 524288,
                datasha: "c06e92e6fd857cbc15287b711af2cf4128ccee65",
                offset: 0
              }, { datalen: file.length - 524288, datasha: sha, offset: 524288 }]) + "\n"
            }
          ])
        )
        assert.strictEqual(init.json.code, 0, JSON.stringify(init.json))
        assert.strictEqual(init.json.data.slice_size, 524288)
        const session = init.json.data.session
        let last = ""
        for (const off of [0, 524288]) {
          const res = yield* call(() =>
            h.postMultipart(p, h.url(path), [
              { name: "offset", value: String(off) },
              { name: "op", value: "upload_slice_data" },
              { name: "session", value: session },
              { name: "sha", value: sha },
              {
                name: "filecontent",
                value: file.subarray(off, off + 524288),
                filename: "data",
                contentType: "application/octet-stream"
              }
            ])
          )
          assert.strictEqual(res.json.code, 0)
          last = res.json.data.session
        }
        const fin = yield* call(() =>
          h.postMultipart(p, h.url(path), [
            { name: "filesize", value: String(file.length) },
            { name: "op", value: "upload_slice_finish" },
            { name: "session", value: last },
            { name: "sha", value: sha }
          ])
        )
        assert.strictEqual(fin.json.code, 0, JSON.stringify(fin.json))
      }))

    it.effect(".NET: CRLF preamble, fileSize at finish, lowercase percent-encoding", () =>
      Effect.gen(function*() {
        const p = yield* port
        const netPath = h.url("/net/a%20b%2b%c3%bc%7e!()%27.txt")
        const pyPath = h.url("/net/a%20b%2B%C3%BC~%21%28%29%27.txt")
        const file = h.patternFile(slice + 1)
        const sha = h.sha1(file)
        const o = { preamble: "\r\n" }
        const init = yield* call(() =>
          h.postMultipart(p, netPath, [
            { name: "op", value: "upload_slice_init" },
            { name: "filesize", value: String(file.length) },
            { name: "slice_size", value: String(slice) },
            { name: "sha", value: sha },
            { name: "biz_attr", value: "" },
            { name: "insertOnly", value: "1" }
          ], o)
        )
        assert.strictEqual(init.json.code, 0)
        const session = init.json.data.session
        for (const off of [0, slice]) {
          const res = yield* call(() =>
            h.postMultipart(p, netPath, [
              { name: "op", value: "upload_slice_data" },
              { name: "session", value: session },
              { name: "offset", value: String(off) },
              { name: "sha", value: sha },
              {
                name: "fileContent",
                value: file.subarray(off, off + slice),
                filename: "a b+ü~!()'.txt",
                contentType: "application/octet-stream"
              }
            ], o)
          )
          assert.strictEqual(res.json.code, 0)
        }
        const fin = yield* call(() =>
          h.postMultipart(p, netPath, [
            { name: "op", value: "upload_slice_finish" },
            { name: "session", value: session },
            { name: "fileSize", value: String(file.length) },
            { name: "sha", value: sha }
          ], o)
        )
        assert.strictEqual(fin.json.code, 0)
        // the same file, addressed with py's encoding
        const stat = yield* call(() => h.get(p, `${pyPath}?op=stat`))
        assert.strictEqual(stat.json.data.name, "a b+ü~!()'.txt")
        assert.strictEqual(stat.json.data.filesize, file.length)
      }))

    it.effect("absolute-form request line (a client behind http_proxy)", () =>
      Effect.gen(function*() {
        const p = yield* port
        const mp = h.multipart([{ name: "op", value: "upload" }, { name: "filecontent", value: "proxied" }])
        const head =
          `POST http://gz.file.myqcloud.com${h.url("/proxy/a.txt")} HTTP/1.1\r\nHost: gz.file.myqcloud.com\r\n` +
          `Content-Type: ${mp.contentType}\r\nContent-Length: ${mp.body.length}\r\nConnection: close\r\n\r\n`
        const res = yield* call(() => h.raw(p, head, mp.body))
        assert.strictEqual(res.json.code, 0)
        assert.strictEqual(res.json.data.url, `http://gz.file.myqcloud.com${h.url("/proxy/a.txt")}`)
        const got = yield* download(p, "/proxy/a.txt")
        assert.strictEqual(got.body.toString(), "proxied")
      }))

    it.effect("java simple upload: op, sha, biz_attr, fileContent, insertOnly; move with a query-string op (py)", () =>
      Effect.gen(function*() {
        const p = yield* port
        const content = Buffer.from("hello simple")
        const up = yield* call(() =>
          h.postMultipart(p, h.url("/simple/a.txt"), [
            { name: "op", value: "upload" },
            { name: "sha", value: h.sha1(content) },
            { name: "biz_attr", value: "" },
            { name: "fileContent", value: content, contentType: "application/octet-stream" },
            { name: "insertOnly", value: "0" }
          ])
        )
        assert.strictEqual(up.json.code, 0)
        assert.deepStrictEqual(Object.keys(up.json.data).sort(), [
          "access_url",
          "preview_url",
          "resource_path",
          "source_url",
          "url"
        ])
        const mv = yield* call(() =>
          h.request(p, {
            path: `${h.url("/simple/a.txt")}?op=move&dest_fileid=${encodeURIComponent("/simple/b.txt")}&to_over_write=0`
          })
        )
        assert.strictEqual(mv.json.code, 0)
        assert.strictEqual((yield* download(p, "/simple/b.txt")).body.toString(), "hello simple")
        assert.strictEqual((yield* call(() => h.get(p, h.url("/simple/a.txt") + "?op=stat"))).json.code, -4021)
      }))
  })
})
