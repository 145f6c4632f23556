/**
 * `@lowrank/runtime/node`: what only runs in Node: the HTTP server over the engine, WebGPU through the
 * `webgpu` package (Dawn), and writing merged model folders to disk. (The main entry also exports these,
 * behind dynamic imports, so it stays importable in browsers; this entry names the Node-only surface.)
 */
export {
  CHROMIUM_SWIFTSHADER_ICD,
  installNodeWebGPU,
  type NodeWebGPUInfo,
  type NodeWebGPUOptions,
} from "../backend/webgpu-node.js";
export { type MergeOptions, type MergeReport, mergeHfFolder, writeFolderAtomically } from "../models/mergeHfFolder.js";
export { type EngineServer, type EngineServerOptions, startEngineServer } from "../server/index.js";
