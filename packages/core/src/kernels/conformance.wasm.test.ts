import * as tf from "@tensorflow/tfjs-core";
import { describeKernelConformance } from "../../test/describeKernelConformance.js";
import { registerLoraKernels } from "./registerLoraKernels.js";

// The vitest setup file initializes wasm through @lowrank/runtime (LOWRANK_BACKEND can override it).
describeKernelConformance("wasm", async () => {
  registerLoraKernels();
  if (tf.findBackend("wasm") === null) return "the wasm backend is not registered in this process";
  await tf.setBackend("wasm");
  return undefined;
});
