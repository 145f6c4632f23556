#!/usr/bin/env node
// The `lowrank` command. Installed from npm it runs the built `dist/`. In the lowrank repository, where
// `src/` sits beside this file, it runs the current sources at the built command's speed (see fromSource.js).
import { existsSync } from "node:fs";

if (existsSync(new URL("../src/bin.ts", import.meta.url))) await import("./fromSource.js");
else await import("../dist/bin.js");
