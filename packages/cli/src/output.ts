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

/** Writes the pieces in order, waiting whenever the stream asks to (large outputs stay streamed). */
export async function writeLines(stream: Writable, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (!stream.write(piece)) await new Promise<void>((resolve) => stream.once("drain", resolve));
  }
}

/**
 * Ends the process quietly when the reader of stdout goes away (`lowrank inspect x | head -3`): a closed
 * pipe is not an error of the command, and is not worth a stack trace.
 */
export function exitQuietlyOnClosedPipe(stdout: NodeJS.WriteStream = process.stdout): void {
  stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}
