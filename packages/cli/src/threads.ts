import { parseThreads } from "@lowrank/runtime";
import { CliError } from "./errors.js";

export const THREADS_HELP = 'wasm threads: a number or "auto" for every core (default: $LOWRANK_WASM_THREADS, else 1)';

/** Commander parser for `--threads`: a positive integer or `auto`; anything else is a usage error (exit 2). */
export function threadsArg(value: string): number | true {
  try {
    return parseThreads(value, "--threads");
  } catch (error) {
    throw new CliError((error as Error).message, "BadOption", 2);
  }
}
