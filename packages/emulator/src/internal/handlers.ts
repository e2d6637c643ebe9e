/**
 * The v4 ops, as Effects over the storage service. Each handler returns a reply; refusals are `Reject`s with
 * core's server reasons (protocol.md §2, §4, §9).
 *
 * @internal
 */
import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import * as Protocol from "@cos-v4/core/Protocol"
import * as Sha1 from "@cos-v4/core/Sha1"
import * as SlicePlan from "@cos-v4/core/SlicePlan"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as crypto from "node:crypto"
import * as Auth from "../Auth.js"
import type { Config } from "./config.js"
import { type Reject, reject } from "./reject.js"
import { nameOf, type ObjectRecord, parentOf, type SessionRecord, type Store } from "./storage.js"
import type { StorageError } from "./storageError.js"

/** @internal */
export interface Request {
  readonly requestId: string
  readonly method: string
  readonly appId: string
  readonly bucket: string
  readonly path: CosPath.CosPath
  readonly fields: Readonly<Record<string, string>>
  readonly payload: Buffer | undefined
  readonly sign: string | undefined
  readonly host: string
  /** Work to run right after the reply is sent (before the body buffer is recycled). */
  readonly after: Array<() => void>
  /** Keeps the request body (and so `payload`) alive past the reply until the returned function runs. */
  readonly retain: () => () => void
}

/** @internal */
export type Reply =
  | { readonly _tag: "Json"; readonly status: number; readonly body: unknown }
  | { readonly _tag: "Bytes"; readonly status: number; readonly body: Buffer }

const ok = (data: object, requestId: string): Reply => ({
  _tag: "Json",
  status: 200,
  body: { code: 0, message: "SUCCESS", request_id: requestId, data }
})

/** @internal */
export const errorReply = (
  reason: Exclude<CosError.ServerReason, "Unknown">,
  detail: string,
  requestId: string,
  status?: number
): Reply => {
  const c = CosError.codeOf(reason)
  return {
    _tag: "Json",
    status: status ?? c.status,
    body: { code: c.code, message: c.message, request_id: requestId, data: { detail } }
  }
}

type Fx<A> = Effect.Effect<A, Reject | StorageError>

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

/** The longest `biz_attr` kept (UTF-8 bytes): it is stored in the database and returned by every stat and list. */
const maxBizAttrBytes = 4096

const decode = <A, I>(schema: Schema.Schema<A, I>, fields: Readonly<Record<string, string>>): Fx<A> =>
  fields.biz_attr !== undefined && Buffer.byteLength(fields.biz_attr, "utf8") > maxBizAttrBytes
    ? Effect.fail(reject("TooLarge", `biz_attr may be at most ${maxBizAttrBytes} bytes`))
    : Either.match(Schema.decodeUnknownEither(schema)(fields, { errors: "first" }), {
      onLeft: (e) =>
        Effect.fail(
          reject("InvalidParameter", ParseResult.TreeFormatter.formatErrorSync(e).split("\n").slice(-2).join(" "))
        ),
      onRight: Effect.succeed
    })

const decimal = /^(0|[1-9][0-9]{0,15})$/
const sha1Hex = /^[0-9a-fA-F]{40}$/
const md5Hex = /^[0-9a-fA-F]{32}$/

/**
 * `Protocol.SliceDataFields` checked by hand for the usual shape of a slice (the hot path); `undefined` for
 * anything else, which then goes through the schema (and its error messages).
 */
const sliceDataFast = (
  fields: Readonly<Record<string, string>>
): typeof Protocol.SliceDataFields.Type | undefined => {
  const session = fields["session"]
  const offset = fields["offset"]
  if (fields["op"] !== "upload_slice_data" || session === undefined || session === "") return undefined
  if (offset === undefined || !decimal.test(offset)) return undefined
  const sha = fields["sha"]
  const datamd5 = fields["datamd5"]
  const slicesize = fields["slicesize"]
  if (sha !== undefined && sha !== "" && !sha1Hex.test(sha)) return undefined
  if (datamd5 !== undefined && datamd5 !== "" && !md5Hex.test(datamd5)) return undefined
  return {
    op: "upload_slice_data",
    session,
    offset: Number(offset),
    ...(sha === undefined ? {} : { sha: sha === "" ? undefined : sha.toLowerCase() }),
    ...(datamd5 === undefined ? {} : { datamd5: datamd5 === "" ? undefined : datamd5 }),
    ...(slicesize === undefined ? {} : { slicesize })
  }
}

/** Slices of a session that may wait for the hashing thread before answers are held back. */
const hashBacklogSlices = 4

const bucketKey = (r: Request) => `${r.appId}/${r.bucket}`

const accessInfo = (r: Request, path: string): Protocol.AccessInfo => {
  const encoded = CosPath.encode(path as CosPath.CosPath)
  const base = `http://${r.host}/files/v2/${CosPath.encodeSegment(r.appId)}/${CosPath.encodeSegment(r.bucket)}`
  return {
    access_url: `${base}${encoded}`,
    resource_path: `/${r.appId}/${r.bucket}${path}`,
    source_url: `${base}${encoded}`,
    url: `http://${r.host}/files/v2/${r.appId}/${r.bucket}${path}`,
    preview_url: `${base}${encoded}`
  }
}

/** Ancestors of a path (excluding the root), outermost first. */
const ancestors = (path: string): Array<string> => {
  const out: Array<string> = []
  let p = parentOf(path)
  while (p !== "/") {
    out.unshift(p)
    p = parentOf(p)
  }
  return out
}

const sha1HexOf = (data: Uint8Array) => crypto.createHash("sha1").update(data).digest("hex")

/** The attributes `list` reports for an object (`stat` adds more for files). */
const entryOf = (r: Request, o: ObjectRecord) => {
  const base = { name: nameOf(o.path), biz_attr: o.bizAttr, ctime: o.ctime, mtime: o.mtime, authority: o.authority }
  if (o.kind === "dir") return base
  const info = accessInfo(r, o.path)
  return {
    ...base,
    filesize: o.size,
    filelen: o.size,
    sha: o.sha ?? "",
    access_url: info.access_url,
    source_url: info.source_url
  }
}

/** @internal */
export const make = (cfg: Config, store: Store, sha1Make: () => Sha1.Sha1Hasher = Sha1.make) => {
  /** The directories to create for `path`, or ParentNotFound when parents must exist. */
  const parentsFor = (r: Request, path: string): Fx<ReadonlyArray<string>> => {
    if (!cfg.requireParent) return Effect.succeed(ancestors(path))
    const parent = parentOf(path)
    if (parent === "/") return Effect.succeed([])
    return Effect.flatMap(store.getObject(bucketKey(r), parent), (o) =>
      o !== undefined && o.kind === "dir"
        ? Effect.succeed([])
        : Effect.fail(reject("ParentNotFound", `${parent} does not exist`)))
  }

  /** The unfinished session at a path; an expired one is discarded on the way. */
  const liveSessionAt = (r: Request, path: string, now: number): Fx<SessionRecord | undefined> =>
    Effect.flatMap(store.sessionAt(bucketKey(r), path), (s) => {
      if (s === undefined || s.expires > now) return Effect.succeed(s)
      return Effect.as(store.exclusive(s.id, store.discardSession(s.id)), undefined)
    })

  const sessionFor = (r: Request, id: string, now: number): Fx<SessionRecord> =>
    Effect.flatMap(store.getSession(id), (s) => {
      if (s === undefined || s.expires <= now) {
        return Effect.fail(reject("SessionNotFound", "unknown or expired session"))
      }
      if (s.bucket !== bucketKey(r) || s.path !== r.path) {
        return Effect.fail(reject("SessionMismatch", "the session belongs to another path"))
      }
      return Effect.succeed(s)
    })

  const fileRecord = (
    r: Request,
    path: string,
    o: { blob: string; size: number; sha: string; bizAttr: string; ctime: number; now: number }
  ): ObjectRecord => ({
    bucket: bucketKey(r),
    path,
    kind: "file",
    blob: o.blob,
    size: o.size,
    sha: o.sha,
    bizAttr: o.bizAttr,
    authority: "eInvalid",
    customHeaders: "{}",
    forbid: 0,
    ctime: o.ctime,
    mtime: o.now
  })

  const upload = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = yield* decode(Protocol.UploadFields, r.fields)
      const payload = r.payload
      if (payload === undefined) return yield* reject("InvalidParameter", "filecontent is missing")
      if (payload.length > cfg.maxSimpleUploadSize) {
        return yield* reject("TooLarge", `a simple upload is at most ${cfg.maxSimpleUploadSize} bytes`)
      }
      const now = yield* nowSeconds
      const sha = sha1HexOf(payload)
      if (f.sha !== undefined && f.sha !== sha) return yield* reject("ShaMismatch", "sha differs from the content")
      if ((yield* liveSessionAt(r, r.path, now)) !== undefined) {
        return yield* reject("UploadNotFinished", "an unfinished slice upload exists for this path")
      }
      const parents = yield* parentsFor(r, r.path)
      const existing = yield* store.getObject(bucketKey(r), r.path)
      if (existing !== undefined && f.insertonly !== "0") {
        if (existing.sha === sha && existing.size === payload.length) return ok(accessInfo(r, r.path), r.requestId)
        return yield* reject("SameFileUploaded", "a different file exists at this path (insertOnly)")
      }
      yield* store.putFile(
        fileRecord(r, r.path, {
          blob: store.newId(),
          size: payload.length,
          sha,
          bizAttr: f.biz_attr ?? "",
          ctime: existing?.ctime ?? now,
          now
        }),
        payload,
        parents
      )
      return ok(accessInfo(r, r.path), r.requestId)
    })

  const checkParts = (
    parts: ReadonlyArray<Protocol.UploadPart>,
    filesize: number,
    sha: string | undefined
  ): Fx<void> => {
    const fail = (detail: string) => Effect.fail(reject("PartsMismatch", detail))
    if (parts.length === 0) return filesize === 0 ? Effect.void : fail("uploadparts is empty")
    const granularity = parts[0]!.datalen
    let next = 0
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      if (p.offset !== next) return fail(`part ${i} starts at ${p.offset}, expected ${next}`)
      if (p.datalen === 0) return fail(`part ${i} is empty`)
      if (i < parts.length - 1 && p.datalen !== granularity) return fail(`part ${i} has another length`)
      if (i === parts.length - 1 && p.datalen > granularity) return fail(`the last part is too long`)
      next += p.datalen
    }
    if (next !== filesize) return fail(`uploadparts cover ${next} bytes, filesize is ${filesize}`)
    if (parts.length > 1 && !Sha1.isValidGranularity(granularity)) return fail("granularity is not a multiple of 64")
    if (sha !== undefined && parts[parts.length - 1]!.datasha !== sha) return fail("the last datasha differs from sha")
    return Effect.void
  }

  const sliceInit = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = yield* decode(Protocol.SliceInitFields, r.fields)
      if (f.filesize > cfg.maxFileSize) return yield* reject("TooLarge", `filesize exceeds ${cfg.maxFileSize}`)
      if (f.uploadparts !== undefined) yield* checkParts(f.uploadparts, f.filesize, f.sha)
      const sha = f.sha ?? (f.uploadparts !== undefined && f.uploadparts.length > 0
        ? f.uploadparts[f.uploadparts.length - 1]!.datasha
        : undefined)
      const now = yield* nowSeconds
      if ((yield* liveSessionAt(r, r.path, now)) !== undefined) {
        return yield* reject("UploadNotFinished", "an unfinished slice upload exists for this path")
      }
      const parents = yield* parentsFor(r, r.path)
      const insertOnly = f.insertonly !== "0"
      const existing = yield* store.getObject(bucketKey(r), r.path)
      if (sha !== undefined) {
        if (existing !== undefined && existing.sha === sha && existing.size === f.filesize) {
          return ok(accessInfo(r, r.path), r.requestId)
        }
        const same = yield* store.findFileBySha(bucketKey(r), sha, f.filesize)
        if (same !== undefined && same.blob !== null) {
          if (existing !== undefined && insertOnly) {
            return yield* reject("SameFileUploaded", "a different file exists at this path (insertOnly)")
          }
          // instant upload (秒传): the content is stored already; the file is created without a session
          yield* store.linkFile(
            fileRecord(r, r.path, {
              blob: same.blob,
              size: same.size,
              sha,
              bizAttr: f.biz_attr ?? "",
              ctime: existing?.ctime ?? now,
              now
            }),
            parents
          )
          return ok(accessInfo(r, r.path), r.requestId)
        }
      }
      // with a sha the content is known now; without one, insertOnly is decided at finish (identical content
      // then succeeds)
      if (existing !== undefined && insertOnly && sha !== undefined) {
        return yield* reject("SameFileUploaded", "a different file exists at this path (insertOnly)")
      }
      if ((yield* store.countSessions(bucketKey(r))) >= cfg.maxSessionsPerBucket) {
        return yield* reject("TooManySessions", `at most ${cfg.maxSessionsPerBucket} unfinished uploads per bucket`)
      }
      const sliceSize = SlicePlan.normalizeSliceSize(f.slice_size)
      const id = store.newId()
      yield* store.createSession({
        id,
        bucket: bucketKey(r),
        path: r.path,
        filesize: f.filesize,
        sliceSize,
        sha: sha ?? null,
        uploadParts: f.uploadparts === undefined ? null : JSON.stringify(f.uploadparts),
        bizAttr: f.biz_attr ?? "",
        insertOnly,
        ctime: now,
        expires: now + cfg.sessionTtlSeconds
      }).pipe(
        Effect.catchTag("StorageError", (e): Fx<never> =>
          Effect.flatMap(store.sessionAt(bucketKey(r), r.path), (other): Fx<never> =>
            other === undefined
              ? Effect.fail(e)
              : Effect.fail(reject("UploadNotFinished", "an unfinished slice upload exists for this path"))))
      )
      return ok({ session: id, slice_size: sliceSize, serial_upload: 0 }, r.requestId)
    })

  const sliceData = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = sliceDataFast(r.fields) ?? (yield* decode(Protocol.SliceDataFields, r.fields))
      const payload = r.payload
      if (payload === undefined) return yield* reject("InvalidParameter", "filecontent is missing")
      const now = yield* nowSeconds
      const s = yield* sessionFor(r, f.session, now)
      if (f.sha !== undefined && s.sha !== null && f.sha !== s.sha) {
        return yield* reject("ShaMismatch", "sha differs from the one given at init")
      }
      const plan = { fileSize: s.filesize, sliceSize: s.sliceSize, count: Math.ceil(s.filesize / s.sliceSize) }
      const expected = SlicePlan.expectedLength(plan, f.offset)
      if (expected === undefined) {
        return yield* reject("InvalidOffset", `offset ${f.offset} is not a slice boundary below ${s.filesize}`)
      }
      if (payload.length !== expected) {
        return yield* reject(
          "InvalidSliceLength",
          `the slice at ${f.offset} must be ${expected} bytes, got ${payload.length}`
        )
      }
      let md5: string | undefined
      if (f.datamd5 !== undefined) {
        md5 = crypto.createHash("md5").update(payload).digest("hex")
        if (md5 !== f.datamd5.toLowerCase()) return yield* reject("Md5Mismatch", "datamd5 differs from the slice")
      }
      // the expiry counts from the last slice: refreshed at most once an hour, and within half the lifetime
      const written = yield* store.writeSlice(
        s,
        f.offset,
        payload,
        now + cfg.sessionTtlSeconds,
        Math.min(3600, Math.floor(cfg.sessionTtlSeconds / 2))
      )
      if (!written) return yield* reject("SessionNotFound", "the session ended meanwhile")
      // the running SHA-1 of the session is fed once the client has its answer; the answer waits while the
      // session's earlier slices are still queued for the hashing thread (backpressure when no core is spare)
      r.after.push(() => store.sliceStored(s, f.offset, payload, r.retain, sha1Make))
      yield* store.hashBacklogBelow(s.id, hashBacklogSlices)
      return ok(
        {
          session: s.id,
          offset: f.offset,
          datalen: payload.length,
          serial_upload: 0,
          ...(md5 === undefined ? {} : { datamd5: md5 })
        },
        r.requestId
      )
    })

  const sliceList = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      yield* decode(Protocol.SliceListFields, r.fields)
      const now = yield* nowSeconds
      const s = yield* liveSessionAt(r, r.path, now)
      if (s !== undefined) {
        const parts = yield* store.slicesOf(s.id)
        return ok({
          session: s.id,
          filesize: s.filesize,
          slice_size: s.sliceSize,
          ...(s.sha === null ? {} : { sha: s.sha }),
          serial_upload: 0,
          listparts: parts.map((p) => ({ offset: p.offset, datalen: p.datalen }))
        }, r.requestId)
      }
      const existing = yield* store.getObject(bucketKey(r), r.path)
      if (existing !== undefined && existing.kind === "file") return ok(accessInfo(r, r.path), r.requestId)
      return yield* reject("NotFound", "no upload in progress for this path", 404)
    })

  const sliceFinish = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = yield* decode(Protocol.SliceFinishFields, r.fields)
      const now = yield* nowSeconds
      const first = yield* sessionFor(r, f.session, now)
      return yield* store.exclusive(
        first.id,
        Effect.gen(function*() {
          const s = yield* sessionFor(r, f.session, now)
          if (f.filesize !== s.filesize) {
            return yield* reject("UploadNotFinished", `filesize ${f.filesize} differs from init's ${s.filesize}`)
          }
          if (s.sha !== null && f.sha === undefined) return yield* reject("ShaRequired", "init carried a sha")
          if (s.sha !== null && f.sha !== s.sha) return yield* reject("ShaMismatch", "sha differs from init's")
          const received = yield* store.slicesOf(s.id)
          const plan = { fileSize: s.filesize, sliceSize: s.sliceSize, count: Math.ceil(s.filesize / s.sliceSize) }
          const missing = SlicePlan.missing(plan, received.map((p) => p.offset))
          if (missing.length > 0) {
            return yield* reject(
              "SliceMissing",
              `${missing.length} slice(s) missing, first at offset ${missing[0]!.offset}`
            )
          }
          const hashed = yield* store.hashSession(s, sha1Make)
          if (hashed === undefined) return yield* reject("PartsMismatch", "uploadparts granularity is not usable")
          const expectedSha = f.sha ?? s.sha ?? undefined
          if (expectedSha !== undefined && hashed.sha !== expectedSha) {
            return yield* reject("ShaMismatch", "the assembled file's SHA-1 differs from sha")
          }
          if (hashed.parts !== undefined) {
            const declared: ReadonlyArray<Protocol.UploadPart> = JSON.parse(s.uploadParts!)
            const bad = declared.findIndex((p, i) => hashed.parts![i]?.datasha !== p.datasha)
            if (bad >= 0) {
              return yield* reject("PartsMismatch", `uploadparts[${bad}] differs from the assembled file`)
            }
          }
          const parents = yield* parentsFor(r, r.path)
          const existing = yield* store.getObject(bucketKey(r), r.path)
          if (existing !== undefined && s.insertOnly) {
            if (existing.sha === hashed.sha && existing.size === s.filesize) {
              yield* store.discardSession(s.id)
              return ok(accessInfo(r, r.path), r.requestId)
            }
            return yield* reject("SameFileUploaded", "a different file exists at this path (insertOnly)")
          }
          yield* store.finishSession(
            s,
            fileRecord(r, r.path, {
              blob: s.id,
              size: s.filesize,
              sha: hashed.sha,
              bizAttr: s.bizAttr,
              ctime: existing?.ctime ?? now,
              now
            }),
            parents
          )
          return ok(accessInfo(r, r.path), r.requestId)
        })
      )
    })

  const customHeadersOf = (o: ObjectRecord): Record<string, string> => {
    try {
      const v = JSON.parse(o.customHeaders)
      return typeof v === "object" && v !== null ? v : {}
    } catch {
      return {}
    }
  }

  const stat = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const now = yield* nowSeconds
      if (r.path === "/") return ok({ name: "", biz_attr: "", ctime: 0, mtime: 0, authority: "eInvalid" }, r.requestId)
      const o = yield* store.getObject(bucketKey(r), r.path)
      if (o !== undefined && o.kind === "dir") return ok(entryOf(r, o), r.requestId)
      if (o !== undefined) {
        return ok({
          ...entryOf(r, o),
          preview_url: accessInfo(r, o.path).preview_url,
          custom_headers: customHeadersOf(o),
          forbid: o.forbid
        }, r.requestId)
      }
      if (!CosPath.isDirectory(r.path)) {
        const s = yield* liveSessionAt(r, r.path, now)
        if (s !== undefined) {
          const parts = yield* store.slicesOf(s.id)
          return ok({
            name: nameOf(s.path),
            biz_attr: s.bizAttr,
            filesize: s.filesize,
            filelen: parts.reduce((n, p) => n + p.datalen, 0),
            sha: s.sha ?? "",
            ctime: s.ctime,
            mtime: s.ctime,
            slicesize: s.sliceSize,
            authority: "eInvalid"
          }, r.requestId)
        }
      }
      return yield* reject("NotFound", `${r.path} does not exist`)
    })

  const del = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      if (r.path === "/") return yield* reject("InvalidPath", "the bucket root cannot be deleted")
      const key = bucketKey(r)
      if (CosPath.isDirectory(r.path)) {
        const o = yield* store.getObject(key, r.path)
        if (o === undefined) return yield* reject("NotFound", `${r.path} does not exist`)
        if ((yield* store.hasChildren(key, r.path)) || (yield* store.hasSessionsUnder(key, r.path))) {
          return yield* reject("DirectoryNotEmpty", `${r.path} is not empty`)
        }
        yield* store.removeObject(key, r.path)
        return ok({}, r.requestId)
      }
      const s = yield* store.sessionAt(key, r.path)
      const o = yield* store.getObject(key, r.path)
      if (s === undefined && o === undefined) return yield* reject("NotFound", `${r.path} does not exist`)
      if (s !== undefined) yield* store.exclusive(s.id, store.discardSession(s.id))
      if (o !== undefined) yield* store.removeObject(key, r.path)
      return ok({}, r.requestId)
    })

  const create = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = yield* decode(Protocol.CreateFields, r.fields)
      if (!CosPath.isDirectory(r.path)) return yield* reject("NoSuchOp", "create makes directories (path ending in /)")
      if (r.path === "/") return yield* reject("PathConflict", "the bucket root exists")
      const now = yield* nowSeconds
      const existing = yield* store.getObject(bucketKey(r), r.path)
      if (existing !== undefined) return yield* reject("PathConflict", `${r.path} exists`)
      const parents = yield* parentsFor(r, r.path)
      yield* store.createDirectory({
        bucket: bucketKey(r),
        path: r.path,
        kind: "dir",
        blob: null,
        size: 0,
        sha: null,
        bizAttr: f.biz_attr ?? "",
        authority: "eInvalid",
        customHeaders: "{}",
        forbid: 0,
        ctime: now,
        mtime: now
      }, parents)
      return ok({ ctime: now, resource_path: `/${r.appId}/${r.bucket}${r.path}` }, r.requestId)
    })

  const list = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = yield* decode(Protocol.ListFields, r.fields)
      const num = f.num ?? 199
      if (num < 1 || num > cfg.maxListNum) return yield* reject("InvalidParameter", `num must be 1..${cfg.maxListNum}`)
      const isDir = CosPath.isDirectory(r.path)
      const dir = isDir ? r.path : parentOf(r.path)
      const prefix = isDir ? "" : nameOf(r.path)
      if (dir !== "/") {
        const d = yield* store.getObject(bucketKey(r), dir)
        if (d === undefined || d.kind !== "dir") return yield* reject("NotFound", `${dir} does not exist`)
      }
      const rows = yield* store.listDirectory(bucketKey(r), dir, {
        prefix,
        after: f.context === undefined || f.context === "" ? undefined : f.context,
        descending: f.order === "1",
        limit: num + 1,
        kind: f.pattern === "eListDirOnly" ? "dir" : f.pattern === "eListFileOnly" ? "file" : undefined
      })
      const page = rows.slice(0, num)
      const listover = rows.length <= num
      const infos = page.map((o) => entryOf(r, o))
      return ok({
        context: listover ? "" : nameOf(page[page.length - 1]!.path),
        listover,
        has_more: !listover,
        dircount: page.filter((o) => o.kind === "dir").length,
        filecount: page.filter((o) => o.kind === "file").length,
        infos
      }, r.requestId)
    })

  const update = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = yield* decode(Protocol.UpdateFields, r.fields)
      const now = yield* nowSeconds
      const o = yield* store.getObject(bucketKey(r), r.path)
      if (o === undefined) return yield* reject("NotFound", `${r.path} does not exist`)
      let customHeaders: string | undefined
      if (f.custom_headers !== undefined) {
        let v: unknown = f.custom_headers
        if (typeof v === "string") {
          try {
            v = v === "" ? {} : JSON.parse(v)
          } catch {
            return yield* reject("InvalidParameter", "custom_headers is not JSON")
          }
        }
        if (
          typeof v !== "object" || v === null || Array.isArray(v) ||
          Object.values(v).some((x) => typeof x !== "string")
        ) {
          return yield* reject("InvalidParameter", "custom_headers must be an object of strings")
        }
        customHeaders = JSON.stringify(v)
      }
      yield* store.updateObject(bucketKey(r), r.path, {
        bizAttr: f.biz_attr,
        authority: f.authority,
        customHeaders,
        forbid: f.forbid,
        mtime: now
      })
      return ok({}, r.requestId)
    })

  const moveOrCopy = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const f = yield* decode(Protocol.MoveFields, r.fields)
      const now = yield* nowSeconds
      const dest = CosPath.parse(f.dest_fileid)
      if (Either.isLeft(dest)) return yield* reject("InvalidPath", `dest_fileid: ${dest.left.reason}`)
      const to = dest.right
      if (CosPath.isDirectory(to)) return yield* reject("InvalidPath", "dest_fileid must be a file path")
      const key = bucketKey(r)
      const source = yield* store.getObject(key, r.path)
      if (source === undefined || source.kind !== "file") return yield* reject("NotFound", `${r.path} does not exist`)
      if (to === r.path) return ok({}, r.requestId)
      const target = yield* store.getObject(key, to)
      if (target !== undefined && f.to_over_write !== "1") return yield* reject("PathConflict", `${to} exists`)
      if ((yield* liveSessionAt(r, to, now)) !== undefined) {
        return yield* reject("UploadNotFinished", `an unfinished slice upload exists for ${to}`)
      }
      const parents = yield* parentsFor(r, to)
      if (f.op === "move") {
        yield* store.moveFile(key, r.path, to, now, parents)
      } else {
        yield* store.linkFile({ ...source, path: to, ctime: now, mtime: now }, parents)
      }
      return ok({}, r.requestId)
    })

  const download = (r: Request): Fx<Reply> =>
    Effect.gen(function*() {
      const o = yield* store.getObject(bucketKey(r), r.path)
      if (o === undefined || o.kind !== "file" || o.blob === null) {
        return yield* reject("NotFound", `${r.path} does not exist`, 404)
      }
      const body = yield* store.readObject(o.blob)
      return { _tag: "Bytes", status: 200, body } as const
    })

  const fileOnly = (op: string, h: (r: Request) => Fx<Reply>) => (r: Request): Fx<Reply> =>
    CosPath.isDirectory(r.path) ? Effect.fail(reject("NoSuchOp", `${op} is not valid on a directory`)) : h(r)

  const ops: Record<string, (r: Request) => Fx<Reply>> = {
    upload: fileOnly("upload", upload),
    upload_slice_init: fileOnly("upload_slice_init", sliceInit),
    upload_slice_data: fileOnly("upload_slice_data", sliceData),
    upload_slice_list: fileOnly("upload_slice_list", sliceList),
    upload_slice_finish: fileOnly("upload_slice_finish", sliceFinish),
    stat,
    delete: del,
    create,
    list,
    update,
    move: fileOnly("move", moveOrCopy),
    copy: fileOnly("copy", moveOrCopy)
  }

  const authorize = (r: Request, op: string): Fx<void> => {
    if (cfg.auth === "off") return Effect.void
    return Effect.gen(function*() {
      const now = yield* nowSeconds
      const verified = Auth.verify({
        mode: cfg.auth === "strict" ? "strict" : "lenient",
        sign: r.sign,
        credentials: cfg.credentials,
        appId: r.appId,
        bucket: r.bucket,
        path: r.path,
        op,
        now,
        ignoreExpiry: !cfg.checkExpiryOnSliceData && (op === "upload_slice_data" || op === "upload_slice_finish"),
        clockSkewSeconds: cfg.clockSkewSeconds
      })
      if (Either.isLeft(verified)) return yield* reject(verified.left.reason, verified.left.detail)
      const parsed = verified.right
      if (parsed.kind === "single") {
        const fresh = yield* store.rememberSignature(
          JSON.stringify([parsed.fields.k, parsed.fields.t, parsed.fields.r, parsed.fields.f]),
          Math.max(now, parsed.fields.t) + 90 * 86400,
          now
        )
        if (!fresh) return yield* reject("SignatureReplayed", "this single-use signature was used before")
      }
    })
  }

  return (r: Request): Effect.Effect<Reply> => {
    const op = r.fields["op"]
    const run: Fx<Reply> = Effect.suspend(() => {
      if (cfg.appId !== undefined && r.appId !== cfg.appId) {
        return Effect.fail(reject("AppIdMismatch", `this emulator serves appid ${cfg.appId}`))
      }
      if (cfg.buckets.size > 0 && !cfg.buckets.has(r.bucket)) {
        return Effect.fail(reject("NotFound", `no bucket ${r.bucket}`))
      }
      if (op === undefined && (r.method === "GET" || r.method === "HEAD")) return download(r)
      const handler = op === undefined ? undefined : Object.hasOwn(ops, op) ? ops[op] : undefined
      if (handler === undefined) return Effect.fail(reject("NoSuchOp", `no such op ${JSON.stringify(op ?? "")}`))
      return Effect.zipRight(authorize(r, op!), handler(r))
    })
    return run.pipe(
      Effect.catchTags({
        Reject: (e) =>
          Effect.succeed(
            errorReply(e.reason as Exclude<CosError.ServerReason, "Unknown">, e.detail, r.requestId, e.status)
          ),
        StorageError: (e) =>
          Effect.as(
            Effect.logError("storage failure", e.detail),
            errorReply("InternalError", "storage failure", r.requestId)
          )
      }),
      Effect.catchAllDefect((d) =>
        Effect.as(Effect.logError("defect", d), errorReply("InternalError", "internal error", r.requestId))
      )
    )
  }
}
