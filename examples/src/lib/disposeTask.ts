import * as tf from "@tensorflow/tfjs-core";
import type { Domain } from "./experiment.js";

/** Disposes every tensor of a task's domains. */
export function disposeDomains(domains: Domain[]): void {
  for (const d of domains) tf.dispose([d.train.x, d.train.y, d.test.x, d.test.y]);
}
