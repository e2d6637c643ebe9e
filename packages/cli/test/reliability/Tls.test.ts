// docs/security.md: with an https endpoint the client speaks TLS and verifies the certificate: a self-signed
// server gets no request (and so no signature), and the user gets one clear line.
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import type * as net from "node:net"
import * as path from "node:path"
import * as H from "./harness.js"

describe("reliability: TLS", () => {
  it("an https endpoint with an untrusted certificate is refused before any request is sent", async () => {
    const dir = H.tempDir("tls")
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-days",
      "1",
      "-keyout",
      path.join(dir, "key.pem"),
      "-out",
      path.join(dir, "cert.pem")
    ], { stdio: "ignore" })
    let requests = 0
    let handshakes = 0
    const server = https.createServer({
      key: fs.readFileSync(path.join(dir, "key.pem")),
      cert: fs.readFileSync(path.join(dir, "cert.pem"))
    }, (_req, res) => {
      requests++
      res.end("{}")
    })
    server.on("secureConnection", () => handshakes++)
    server.on("tlsClientError", () => handshakes++)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const port = (server.address() as net.AddressInfo).port
    try {
      fs.writeFileSync(path.join(dir, "a.bin"), "hello")
      const run = await H.collect(
        H.startCos(
          ["upload", "a.bin", "/a.bin", "--endpoint", `https://127.0.0.1:${port}`, "--retries", "0"],
          dir,
          H.cosEnv(path.join(dir, "cache"))
        )
      )
      assert.notStrictEqual(run.code, 0)
      assert.isAbove(handshakes, 0, "the client did not speak TLS")
      assert.strictEqual(requests, 0, "a request went through an unverified TLS connection")
      assert.match(run.stderr, /^cos: /m)
      assert.notInclude(run.stderr + run.stdout, H.secretKey)
    } finally {
      server.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
