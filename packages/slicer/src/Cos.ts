/**
 * Small composable operations for applications, over the `Transport` in context, taking paths as strings
 * (validated with `CosPath`): `stat`, `remove`, `list`, `mkdir`, `move`.
 *
 * @since 0.1.0
 */
import * as CosError from "@cos-v4/core/CosError"
import * as CosPath from "@cos-v4/core/CosPath"
import type * as Protocol from "@cos-v4/core/Protocol"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { ListOptions, RequestError } from "./Transport.js"
import { Transport } from "./Transport.js"

const parse = (input: string, argument: string, kind: "any" | "file" | "directory") =>
  Either.flatMap(
    Either.mapLeft(
      kind === "file" ? CosPath.parseFile(input) : CosPath.parse(input),
      (e) => new CosError.InvalidArgument({ reason: "InvalidPath", argument, detail: e.message })
    ),
    (path) =>
      kind === "directory" && !CosPath.isDirectory(path)
        ? Either.left(
          new CosError.InvalidArgument({ reason: "InvalidPath", argument, detail: `${path} is not a directory (/…/)` })
        )
        : Either.right(path)
  )

/**
 * Attributes of a file (`/a.txt`) or directory (`/dir/`).
 *
 * @since 0.1.0
 * @category operations
 */
export const stat = (
  path: string
): Effect.Effect<Protocol.StatData, RequestError | CosError.InvalidArgument, Transport> =>
  Effect.flatMap(parse(path, "path", "any"), (p) => Effect.flatMap(Transport, (t) => t.stat(p)))

/**
 * Deletes a file, an empty directory, or the unfinished upload at a path.
 *
 * @since 0.1.0
 * @category operations
 */
export const remove = (path: string): Effect.Effect<void, RequestError | CosError.InvalidArgument, Transport> =>
  Effect.flatMap(parse(path, "path", "any"), (p) => Effect.flatMap(Transport, (t) => t.remove(p)))

/**
 * One page of a directory listing (pass `context` from the previous page to continue).
 *
 * @since 0.1.0
 * @category operations
 */
export const list = (
  directory: string,
  options?: ListOptions
): Effect.Effect<Protocol.ListData, RequestError | CosError.InvalidArgument, Transport> =>
  Effect.flatMap(
    parse(directory, "directory", "directory"),
    (p) => Effect.flatMap(Transport, (t) => t.listDirectory(p, options))
  )

/**
 * Creates a directory (`/dir/`).
 *
 * @since 0.1.0
 * @category operations
 */
export const mkdir = (
  directory: string,
  options?: { readonly bizAttr?: string | undefined }
): Effect.Effect<void, RequestError | CosError.InvalidArgument, Transport> =>
  Effect.flatMap(
    parse(directory, "directory", "directory"),
    (p) => Effect.flatMap(Transport, (t) => t.createDirectory(p, options))
  )

/**
 * Moves (renames) a file.
 *
 * @since 0.1.0
 * @category operations
 */
export const move = (
  from: string,
  to: string,
  options?: { readonly overwrite?: boolean | undefined }
): Effect.Effect<void, RequestError | CosError.InvalidArgument, Transport> =>
  Effect.gen(function*() {
    const source = yield* parse(from, "from", "file")
    const destination = yield* parse(to, "to", "file")
    const transport = yield* Transport
    return yield* transport.move(source, destination, options)
  })
