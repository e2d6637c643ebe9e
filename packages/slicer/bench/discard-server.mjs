// A tiny discarding COS v4 server for the uploader's hot-path benchmark (not the emulator): answers
// upload_slice_init with a session, upload_slice_data with {session, offset, datalen} after reading (and
// dropping) the body, upload_slice_finish with access info, stat with the sha given by --sha (or POST /ctl/sha).
// Parses only the first chunk of each multipart body (the fields come before the content).
//   node packages/slicer/bench/discard-server.mjs [--port 0] [--sha HEX]   → prints `listening on URL`
import http from "node:http"

const args = process.argv.slice(2)
const opt = (n, d) => (args.includes(`--${n}`) ? args[args.indexOf(`--${n}`) + 1] : d)
let sha = opt("sha", "")
let sessions = 0
const field = (head, name) => {
  const i = head.indexOf(`name="${name}"\r\n\r\n`)
  if (i < 0) return undefined
  const s = i + name.length + 11
  return head.slice(s, head.indexOf("\r\n", s))
}
const reply = (res, data) => {
  const body = JSON.stringify({ code: 0, message: "SUCCESS", request_id: "r", data })
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  res.end(body)
}
const access = (p) => ({
  access_url: `http://x${p}`,
  resource_path: p,
  source_url: `http://x${p}`,
  url: `http://x${p}`
})
const server = http.createServer((req, res) => {
  const url = req.url ?? "/"
  if (req.method === "GET") {
    req.resume()
    return reply(res, { name: "f", filesize: 0, filelen: 0, sha })
  }
  let head = ""
  let total = 0
  req.on("data", (chunk) => {
    if (head.length < 2048) head += chunk.toString("latin1", 0, Math.min(chunk.length, 2048))
    total += chunk.length
  })
  req.on("end", () => {
    if (url.startsWith("/ctl/sha")) {
      sha = head.trim()
      return reply(res, {})
    }
    const op = field(head, "op")
    switch (op) {
      case "upload_slice_init":
        return reply(res, { session: `s${++sessions}`, slice_size: Number(field(head, "slice_size") ?? 1048576) })
      case "upload_slice_data": {
        const offset = Number(field(head, "offset"))
        const i = head.indexOf("\r\n\r\n", head.indexOf("name=\"filecontent\""))
        return reply(res, { session: field(head, "session"), offset, datalen: total - (i + 4) - 0 })
      }
      case "upload_slice_finish":
      case "upload":
        return reply(res, access(url))
      case "upload_slice_list":
        return reply(res, {})
      default:
        return reply(res, {})
    }
  })
})
server.keepAliveTimeout = 60_000
server.listen(Number(opt("port", 0)), "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`)
})
