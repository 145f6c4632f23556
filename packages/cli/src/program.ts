import { Command, CommanderError } from "commander";
import { registerConvert } from "./commands/convert.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerForward } from "./commands/forward.js";
import { registerGenerate } from "./commands/generate.js";
import { registerInspect } from "./commands/inspect.js";
import { registerMerge } from "./commands/merge.js";
import { registerServe } from "./commands/serve.js";
import { registerTrain } from "./commands/train.js";
import { describeError, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, isCliError } from "./errors.js";
import { type CliIO, printJson, processIO } from "./output.js";

/** Builds the `lowrank` program. Each command module adds itself through a `register*` function. */
export function createProgram(io: CliIO = processIO): Command {
  const program = new Command("lowrank")
    .description("LoRA adapters for TypeScript: inspect, convert, train, merge, serve")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerDoctor(program, io);
  registerInspect(program, io);
  registerConvert(program, io);
  registerForward(program, io);
  registerGenerate(program, io);
  registerMerge(program, io);
  registerServe(program, io);
  registerTrain(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/**
 * Runs the CLI and returns its exit code: 0 success, 1 bad input (one-line reason on stderr, or
 * `{"error":{code,message}}` on stdout with --json), 2 usage errors.
 */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return EXIT_OK;
      return EXIT_USAGE;
    }
    const { code, message } = describeError(error);
    if (argv.includes("--json")) printJson(io, { error: { code, message } });
    else io.stderr.write(`lowrank: ${message.split("\n")[0]}\n`);
    return isCliError(error) ? error.exitCode : EXIT_BAD_INPUT;
  }
}
