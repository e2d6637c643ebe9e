// Generated from docs/resume.md (code block 1) by scripts/codegen.mjs: do not edit.
import * as NodeCheckpointStore from "@cos-v4/node/NodeCheckpointStore"
import * as NodeCos from "@cos-v4/node/NodeCos"
import * as Uploader from "@cos-v4/slicer/Uploader"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

// keep resume state next to the application's data instead of the default directory
export const upload = Uploader.uploadFile("./big.iso", "/isos/big.iso").pipe(
  Effect.provide(Layer.merge(NodeCos.layerConfig(), NodeCheckpointStore.layer("./state/cos-checkpoints")))
)
