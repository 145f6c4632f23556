#!/usr/bin/env node
import { exitQuietlyOnClosedPipe } from "./output.js";
import { runCli } from "./program.js";

exitQuietlyOnClosedPipe();
// `pnpm lowrank ...` runs from the repository root; resolve paths from where the user typed it.
if (process.env.npm_lifecycle_event === "lowrank" && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
process.exitCode = await runCli(process.argv.slice(2));
