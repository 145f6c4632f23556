import { Writable } from "node:stream";
import type { CliIO } from "./output.js";

/** In-memory stdout/stderr for running the CLI in-process in tests. */
export function captureIO(): CliIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  return {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    out: () => out,
    err: () => err,
  };
}
