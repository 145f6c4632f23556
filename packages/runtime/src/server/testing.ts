// Test helpers for the server suites: a temporary --adapters folder of synthetic PEFT adapters and a
// JSON client.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SyntheticAdapterSpec } from "../engine/synthetic.js";
import { syntheticPeftFiles } from "../engine/syntheticPeft.js";
import type { ServableBase } from "../engine/types.js";

/** Writes each adapter as a PEFT folder `<dir>/<name>` of a new temporary folder; returns the folder. */
export async function adapterFolders(
  adapters: Array<{ name: string; base: ServableBase; spec: SyntheticAdapterSpec }>,
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-server-"));
  for (const a of adapters) {
    const files = syntheticPeftFiles(a.base, a.spec);
    await mkdir(path.join(dir, a.name));
    await writeFile(path.join(dir, a.name, "adapter_config.json"), files.config);
    await writeFile(path.join(dir, a.name, "adapter_model.safetensors"), files.weights);
  }
  return dir;
}

export interface JsonAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field by the tests
  json: any;
}

/** Sends `body` (an object as JSON, a string as is) and parses the JSON answer. */
export async function request(url: string, method: string, route: string, body?: unknown): Promise<JsonAnswer> {
  const res = await fetch(url + route, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) };
}
