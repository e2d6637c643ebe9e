/**
 * Field limits (issue 7, finding E1): an oversized `biz_attr` is refused with a specific code by every op that
 * stores one, instead of growing the database.
 */
import * as CosError from "@cos-v4/core/CosError"
import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Emulator from "../src/Emulator.js"
import * as h from "./helpers.js"

const tooLarge = CosError.codeOf("TooLarge").code

describe("Emulator limits", () => {
  layer(Emulator.layerTest(), { excludeTestServices: true })((it) => {
    it.effect("biz_attr: 4096 bytes are kept, one byte more is TooLarge for upload, init, create and update", () =>
      Effect.gen(function*() {
        const port = (yield* Emulator.Emulator).port
        const ok = "é".repeat(2048) // 4096 UTF-8 bytes
        const over = ok + "x"
        const content = { name: "filecontent", value: Buffer.from("hello"), filename: "blob" }
        const upload = (path: string, biz: string) =>
          Effect.promise(() =>
            h.postMultipart(port, h.url(path), [
              { name: "op", value: "upload" },
              { name: "biz_attr", value: biz },
              content
            ])
          )
        assert.strictEqual((yield* upload("/l/a.bin", ok)).json.code, 0)
        const refused = yield* upload("/l/b.bin", over)
        assert.strictEqual(refused.json.code, tooLarge, refused.body.toString())
        const init = yield* Effect.promise(() =>
          h.postMultipart(port, h.url("/l/c.bin"), [
            { name: "op", value: "upload_slice_init" },
            { name: "filesize", value: "10" },
            { name: "slice_size", value: "524288" },
            { name: "biz_attr", value: over }
          ])
        )
        assert.strictEqual(init.json.code, tooLarge)
        const create = yield* Effect.promise(() => h.postJson(port, h.url("/l/d/"), { op: "create", biz_attr: over }))
        assert.strictEqual(create.json.code, tooLarge)
        const update = yield* Effect.promise(() =>
          h.postJson(port, h.url("/l/a.bin"), { op: "update", biz_attr: over })
        )
        assert.strictEqual(update.json.code, tooLarge)
        // nothing was stored by the refused requests; the accepted attribute is intact
        const stat = yield* Effect.promise(() => h.get(port, `${h.url("/l/a.bin")}?op=stat`))
        assert.strictEqual(stat.json.data.biz_attr, ok)
        const missing = yield* Effect.promise(() => h.get(port, `${h.url("/l/b.bin")}?op=stat`))
        assert.strictEqual(missing.json.code, CosError.codeOf("NotFound").code)
      }))
  })
})
