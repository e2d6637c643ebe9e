// The slicer's tests use the exported in-memory server (src/MemoryServer.ts) under their historical names.
import { sha1Hex } from "../src/internal/memoryServer.js"
import * as MemoryServer from "../src/MemoryServer.js"

export type FakeServer = MemoryServer.Server
export type Fault = MemoryServer.Fault
export type Request = MemoryServer.Request
export type LogEntry = MemoryServer.LogEntry
export type Session = MemoryServer.Session
export type Options = MemoryServer.Options

export const credentials = MemoryServer.credentials
export const config = MemoryServer.config
export const make = MemoryServer.unsafeMake
/** Transport + Signer + CosConfig + Sha1 + a memory checkpoint store, over the server. */
export const layer = MemoryServer.layerServices

/** Deterministic content: byte i = (i + seed) mod 251. */
export const bytes = (size: number, seed = 0): Uint8Array => {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (i + seed) % 251
  return out
}

export { sha1Hex }
