import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll } from "vitest";
import { initBackend } from "../src/backend/initBackend.js";

/** In a describe block: switch to `backend` before its tests and back to the previous backend after. */
export function useBackend(backend: "cpu" | "wasm"): void {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await initBackend({ backend });
  });
  afterAll(async () => {
    await initBackend({ backend: previous as "wasm" });
  });
}
