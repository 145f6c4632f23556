import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { describeKernelConformance } from "../../test/describeKernelConformance.js";
import { registerLoraKernels } from "./registerLoraKernels.js";

describeKernelConformance("cpu", async () => {
  registerLoraKernels();
  await tf.setBackend("cpu");
  return undefined;
});
