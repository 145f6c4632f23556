import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The folder holding the installed TensorFlow.js wasm binaries, resolved when the server runs. The
 * runtime's own lookup (`createRequire(import.meta.url).resolve`) is rewritten by the bundler into a
 * module id, so the hub resolves the package from its own folder instead.
 */
export function tfjsWasmDir(): string {
  const require = createRequire(join(/*turbopackIgnore: true*/ process.cwd(), "package.json"));
  return `${dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}/`;
}
