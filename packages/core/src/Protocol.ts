/**
 * Schemas of the v4 wire protocol: the response envelope, each op's request fields and each op's response
 * data. Decoding is tolerant of what the official SDKs really send (case variants of field names, decimal
 * strings for numbers, `listparts: null`); encoding emits what the server is documented to send (numbers
 * as JSON numbers, `message: "SUCCESS"`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Op } from "./CosError.js"

export {
  /**
   * @since 0.1.0
   * @category schemas
   */
  Op
}

// ---------------------------------------------------------------------------------------------------------------
// scalars
// ---------------------------------------------------------------------------------------------------------------

const decimal = /^(0|[1-9][0-9]{0,15})$/

/**
 * A non-negative safe integer that arrives as a JSON number or as a decimal string (form fields); it encodes
 * to a JSON number.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Int: Schema.Schema<number, number | string> = Schema.Union(
  Schema.Number,
  Schema.String.pipe(Schema.pattern(decimal))
).pipe(
  Schema.transform(Schema.Number.pipe(Schema.int(), Schema.nonNegative(), Schema.lessThanOrEqualTo(2 ** 53 - 1)), {
    strict: true,
    decode: (u) => typeof u === "number" ? u : Number(u),
    encode: (n) => n
  })
)

/**
 * The same integer, encoded as a decimal string (what a client writes into a form field).
 *
 * @since 0.1.0
 * @category schemas
 */
export const IntField: Schema.Schema<number, string> = Schema.String.pipe(
  Schema.trimmed(),
  Schema.pattern(decimal),
  Schema.compose(Schema.NumberFromString),
  Schema.int(),
  Schema.nonNegative()
)

/**
 * A lowercase hex SHA-1 (40 chars). Upper-case input is accepted and normalised.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Sha1Hex: Schema.Schema<string> = Schema.String.pipe(
  Schema.transform(Schema.String.pipe(Schema.pattern(/^[0-9a-f]{40}$/)), {
    strict: true,
    decode: (s) => s.toLowerCase(),
    encode: (s) => s
  })
)

/**
 * `insertOnly`: `"1"` (default of most SDKs) = do not overwrite; `"0"` = overwrite. php sends an empty
 * value when the caller gave none, which decodes as absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InsertOnly: Schema.Schema<boolean, "0" | "1" | 0 | 1> = Schema.Union(
  Schema.Literal("0", "1"),
  Schema.Literal(0, 1)
).pipe(Schema.transform(Schema.Boolean, {
  strict: true,
  decode: (v) => v === "1" || v === 1,
  encode: (b): "0" | "1" => b ? "1" : "0"
}))

// ---------------------------------------------------------------------------------------------------------------
// envelope
// ---------------------------------------------------------------------------------------------------------------

/**
 * The JSON envelope of every answer: `{code, message, request_id, data}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope = Schema.Struct({
  code: Schema.Number,
  message: Schema.String,
  request_id: Schema.optional(Schema.String),
  data: Schema.optional(Schema.Unknown)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Envelope = typeof Envelope.Type

/**
 * A successful envelope with a typed `data` (encoding emits `code: 0`, `message: "SUCCESS"`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Success = <A, I, R>(data: Schema.Schema<A, I, R>) =>
  Schema.Struct({
    code: Schema.Literal(0),
    message: Schema.Literal("SUCCESS"),
    request_id: Schema.String,
    data
  })

// ---------------------------------------------------------------------------------------------------------------
// uploadparts
// ---------------------------------------------------------------------------------------------------------------

/**
 * One `uploadparts` entry: `datasha` is the SHA-1 chaining state after the part (little-endian words), the
 * last one the whole file's digest.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadPart = Schema.Struct({
  offset: Int,
  datalen: Int,
  datasha: Sha1Hex
})

/**
 * @since 0.1.0
 * @category models
 */
export type UploadPart = typeof UploadPart.Type

/**
 * The `uploadparts` field: a JSON array sent as a string (key order and whitespace vary between SDKs, cpp adds
 * a newline).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadPartsFromJson: Schema.Schema<ReadonlyArray<UploadPart>, string> = Schema.parseJson(
  Schema.Array(UploadPart)
)

// ---------------------------------------------------------------------------------------------------------------
// request fields (as an emulator decodes them, after `normalizeFields`)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Field names are case-insensitive on the wire (`fileContent`, `fileSize`, `insertOnly`) and the first
 * occurrence of a repeated field wins (the js SDK re-appends every field on retry). This folds a list of
 * `[name, value]` pairs into a record with lowercase names.
 *
 * @since 0.1.0
 * @category constructors
 */
export const normalizeFields = <V>(pairs: Iterable<readonly [string, V]>): Record<string, V> => {
  const out: Record<string, V> = {}
  for (const [name, value] of pairs) {
    const key = name.toLowerCase()
    if (!Object.prototype.hasOwnProperty.call(out, key)) out[key] = value
  }
  return out
}

const optionalNonEmpty = <A, I extends string>(schema: Schema.Schema<A, I>) =>
  Schema.optionalWith(
    Schema.Union(Schema.Literal(""), schema).pipe(
      Schema.transform(Schema.UndefinedOr(Schema.typeSchema(schema)), {
        strict: false,
        decode: (v) => v === "" ? undefined : v,
        encode: (v) => v === undefined ? "" : v
      })
    ),
    { exact: true }
  )

/**
 * `upload` (simple upload) fields, besides the payload.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadFields = Schema.Struct({
  op: Schema.Literal("upload"),
  sha: optionalNonEmpty(Sha1Hex),
  biz_attr: Schema.optional(Schema.String),
  insertonly: optionalNonEmpty(Schema.Literal("0", "1"))
})

/**
 * `upload_slice_init` fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceInitFields = Schema.Struct({
  op: Schema.Literal("upload_slice_init"),
  filesize: IntField,
  slice_size: optionalNonEmpty(IntField),
  sha: optionalNonEmpty(Sha1Hex),
  uploadparts: optionalNonEmpty(UploadPartsFromJson),
  biz_attr: Schema.optional(Schema.String),
  insertonly: optionalNonEmpty(Schema.Literal("0", "1"))
})

/**
 * `upload_slice_data` fields, besides the payload (`datamd5` is php's, `slicesize` js's).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceDataFields = Schema.Struct({
  op: Schema.Literal("upload_slice_data"),
  session: Schema.NonEmptyString,
  offset: IntField,
  sha: optionalNonEmpty(Sha1Hex),
  datamd5: optionalNonEmpty(Schema.String.pipe(Schema.pattern(/^[0-9a-fA-F]{32}$/))),
  slicesize: Schema.optional(Schema.String)
})

/**
 * `upload_slice_list` fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceListFields = Schema.Struct({
  op: Schema.Literal("upload_slice_list")
})

/**
 * `upload_slice_finish` fields (`fileSize` from .NET folds to `filesize`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceFinishFields = Schema.Struct({
  op: Schema.Literal("upload_slice_finish"),
  session: Schema.NonEmptyString,
  filesize: IntField,
  sha: optionalNonEmpty(Sha1Hex)
})

/**
 * `stat` fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StatFields = Schema.Struct({ op: Schema.Literal("stat") })

/**
 * `delete` fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DeleteFields = Schema.Struct({ op: Schema.Literal("delete") })

/**
 * `create` (directory) fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateFields = Schema.Struct({
  op: Schema.Literal("create"),
  biz_attr: Schema.optional(Schema.String)
})

/**
 * `list` fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListFields = Schema.Struct({
  op: Schema.Literal("list"),
  num: optionalNonEmpty(IntField),
  context: Schema.optional(Schema.String),
  pattern: optionalNonEmpty(Schema.Literal("eListBoth", "eListDirOnly", "eListFileOnly")),
  order: optionalNonEmpty(Schema.Literal("0", "1")),
  delimiter: Schema.optional(Schema.String)
})

/**
 * `update` fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateFields = Schema.Struct({
  op: Schema.Literal("update"),
  biz_attr: Schema.optional(Schema.String),
  authority: optionalNonEmpty(Schema.Literal("eInvalid", "eWRPrivate", "eWPrivateRPublic")),
  custom_headers: Schema.optional(
    Schema.Union(Schema.String, Schema.Record({ key: Schema.String, value: Schema.String }))
  ),
  forbid: optionalNonEmpty(IntField)
})

/**
 * `move` / `copy` fields.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MoveFields = Schema.Struct({
  op: Schema.Literal("move", "copy"),
  dest_fileid: Schema.NonEmptyString,
  to_over_write: optionalNonEmpty(Schema.Literal("0", "1"))
})

// ---------------------------------------------------------------------------------------------------------------
// response data
// ---------------------------------------------------------------------------------------------------------------

/**
 * The data of a finished file: `upload`, `upload_slice_finish`, an instant-upload (秒传) init, a list of a
 * completed path.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessInfo = Schema.Struct({
  access_url: Schema.String,
  resource_path: Schema.String,
  source_url: Schema.String,
  url: Schema.String,
  preview_url: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type AccessInfo = typeof AccessInfo.Type

/**
 * `upload` reply data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadData = AccessInfo

/**
 * A new slice session.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceSession = Schema.Struct({
  session: Schema.NonEmptyString,
  slice_size: Int,
  serial_upload: Schema.optional(Int),
  offset: Schema.optional(Int)
})

/**
 * @since 0.1.0
 * @category models
 */
export type SliceSession = typeof SliceSession.Type

/**
 * `upload_slice_init` reply data: a session, or the access info of an instant upload (no session).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceInitData = Schema.Union(SliceSession, AccessInfo)

/**
 * @since 0.1.0
 * @category models
 */
export type SliceInitData = typeof SliceInitData.Type

/**
 * `upload_slice_data` reply data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceDataData = Schema.Struct({
  session: Schema.String,
  offset: Int,
  datalen: Int,
  serial_upload: Schema.optional(Int),
  datamd5: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type SliceDataData = typeof SliceDataData.Type

/**
 * One acknowledged slice in `listparts`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListPart = Schema.Struct({ offset: Int, datalen: Int })

/**
 * @since 0.1.0
 * @category models
 */
export type ListPart = typeof ListPart.Type

/**
 * `listparts`: an array; the real server sometimes sent `null` for "none", which decodes to `[]`. Encoding
 * always emits an array.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListParts: Schema.Schema<ReadonlyArray<ListPart>, ReadonlyArray<typeof ListPart.Encoded> | null> = Schema
  .NullOr(Schema.Array(ListPart)).pipe(
    Schema.transform(Schema.Array(Schema.typeSchema(ListPart)), {
      strict: true,
      decode: (v) => v ?? [],
      encode: (v) => v
    })
  )

/**
 * An upload still in progress, as `upload_slice_list` reports it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceProgress = Schema.Struct({
  session: Schema.NonEmptyString,
  filesize: Int,
  slice_size: Int,
  sha: Schema.optional(Schema.String),
  serial_upload: Schema.optional(Int),
  listparts: Schema.optionalWith(ListParts, { default: () => [] })
})

/**
 * @since 0.1.0
 * @category models
 */
export type SliceProgress = typeof SliceProgress.Type

/**
 * `upload_slice_list` reply data: the progress of an unfinished upload, or the access info of a finished
 * one.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceListData = Schema.Union(SliceProgress, AccessInfo)

/**
 * @since 0.1.0
 * @category models
 */
export type SliceListData = typeof SliceListData.Type

/**
 * `upload_slice_finish` reply data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SliceFinishData = AccessInfo

/**
 * Unix seconds as a number; the iOS doc types `ctime`/`mtime` as strings, so strings are accepted.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UnixSeconds: Schema.Schema<number, number | string> = Int

/**
 * `stat` reply data for a file or directory.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StatData = Schema.Struct({
  name: Schema.optional(Schema.String),
  biz_attr: Schema.optional(Schema.String),
  filesize: Schema.optional(Int),
  filelen: Schema.optional(Int),
  sha: Schema.optional(Schema.String),
  ctime: Schema.optional(UnixSeconds),
  mtime: Schema.optional(UnixSeconds),
  access_url: Schema.optional(Schema.String),
  source_url: Schema.optional(Schema.String),
  preview_url: Schema.optional(Schema.String),
  authority: Schema.optional(Schema.String),
  custom_headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  forbid: Schema.optional(Int),
  slicesize: Schema.optional(Int)
})

/**
 * @since 0.1.0
 * @category models
 */
export type StatData = typeof StatData.Type

/**
 * One entry of a `list` reply (a directory's name ends with `/`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListEntry = Schema.Struct({
  name: Schema.String,
  biz_attr: Schema.optional(Schema.String),
  filesize: Schema.optional(Int),
  filelen: Schema.optional(Int),
  sha: Schema.optional(Schema.String),
  ctime: Schema.optional(UnixSeconds),
  mtime: Schema.optional(UnixSeconds),
  access_url: Schema.optional(Schema.String),
  source_url: Schema.optional(Schema.String),
  authority: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ListEntry = typeof ListEntry.Type

/**
 * `list` reply data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListData = Schema.Struct({
  context: Schema.String,
  listover: Schema.Boolean,
  dircount: Int,
  filecount: Int,
  infos: Schema.Array(ListEntry)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ListData = typeof ListData.Type

/**
 * `create` (directory) reply data.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateData = Schema.Struct({
  ctime: Schema.optional(UnixSeconds),
  resource_path: Schema.optional(Schema.String)
})

/**
 * Reply data of ops that return nothing (`delete`, `update`, `move`): an empty object.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmptyData = Schema.Struct({})

/**
 * Whether init/list data describes a finished file (instant upload, or a completed path).
 *
 * @since 0.1.0
 * @category guards
 */
export const isAccessInfo = (data: SliceInitData | SliceListData): data is AccessInfo =>
  !("session" in data) && "access_url" in data
