#!/usr/bin/env node
import { exitQuietlyOnClosedPipe } from "./output.js";
import { runCli } from "./program.js";

exitQuietlyOnClosedPipe();
process.exitCode = await runCli(process.argv.slice(2));
