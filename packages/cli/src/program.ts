import { Command, CommanderError } from "commander";
import { registerConvert } from "./commands/convert.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerForward } from "./commands/forward.js";
import { registerGenerate } from "./commands/generate.js";
import { registerInspect } from "./commands/inspect.js";
import { registerLogin } from "./commands/login.js";
import { registerMerge } from "./commands/merge.js";
import { registerPublish } from "./commands/publish.js";
import { registerPull } from "./commands/pull.js";
import { registerSearch } from "./commands/search.js";
import { registerServe } from "./commands/serve.js";
import { registerTrain } from "./commands/train.js";
import { describeError, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, isCliError } from "./errors.js";
import { type CliIO, printJson, processIO } from "./output.js";

/**
 * Builds the `lowrank` program. Each command module adds itself through a `register*` function.
 * With `quietErrors` commander's own error lines are not printed (runCli prints them as JSON).
 */
export function createProgram(io: CliIO = processIO, quietErrors = false): Command {
  const program = new Command("lowrank")
    .description("LoRA adapters for TypeScript: inspect, convert, train, merge, serve")
    .version("0.1.0")
    // `--version` after a command name is that command's option (`lowrank publish DIR --version v2`).
    .enablePositionalOptions()
    .showHelpAfterError(quietErrors ? false : "(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => {
        if (!quietErrors) io.stderr.write(s);
      },
      // Commander's usage errors in the CLI's one-line style: `lowrank: <reason>`.
      outputError: (s, write) => write(`lowrank: ${s.replace(/^error: /, "")}`),
    });
  registerDoctor(program, io);
  registerInspect(program, io);
  registerConvert(program, io);
  registerForward(program, io);
  registerGenerate(program, io);
  registerMerge(program, io);
  registerServe(program, io);
  registerTrain(program, io);
  registerLogin(program, io);
  registerPublish(program, io);
  registerPull(program, io);
  registerSearch(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Commander's usage errors in the CLI's closed codes. */
function usageCode(error: CommanderError): "Usage" | "InvalidOption" {
  return error.code === "commander.invalidArgument" ? "InvalidOption" : "Usage";
}

/**
 * Runs the CLI and returns its exit code: 0 success, 1 bad input (one-line reason on stderr), 2 usage
 * errors (no command, unknown command or option, any invalid option value). With --json every failure
 * is `{"error":{code,message}}` on stdout instead.
 */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const json = argv.includes("--json");
  const program = createProgram(io, json);
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help, --version and `help` exit 0; help shown because no command was given is a usage error.
      if (error.exitCode === 0) return EXIT_OK;
      if (json) {
        const message = error.code === "commander.help" ? "expected a command, found none" : error.message;
        printJson(io, { error: { code: usageCode(error), message: message.replace(/^error: /, "") } });
      }
      return EXIT_USAGE;
    }
    const { code, message } = describeError(error);
    if (json) printJson(io, { error: { code, message } });
    else io.stderr.write(`lowrank: ${message.split("\n")[0]}\n`);
    return isCliError(error) ? error.exitCode : EXIT_BAD_INPUT;
  }
}
