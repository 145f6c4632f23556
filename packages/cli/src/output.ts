import type { Writable } from "node:stream";

/** Where a command writes; tests pass their own streams to run commands in-process. */
export interface CliIO {
  stdout: Writable;
  stderr: Writable;
}

export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr };

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Aligned two-column text for human output. */
export function printPairs(io: CliIO, pairs: Array<[string, string]>): void {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  for (const [k, v] of pairs) io.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}
