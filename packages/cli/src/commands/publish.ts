import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  MODEL_CARD_FILE,
  PEFT_CONFIG_FILE,
  PEFT_PICKLE_FILE,
  PEFT_WEIGHTS_FILE,
  parseModelCard,
  pickleRefusedMessage,
} from "@lowrank/formats";
import type { Command } from "commander";
import { z } from "zod";
import { CliError } from "../errors.js";
import { resolveHub } from "../hub/credentials.js";
import { trpc } from "../hub/hubApi.js";
import { uploadFile } from "../hub/transfer.js";
import { type CliIO, printJson, processIO } from "../output.js";

const SLUG = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

export const publishOptionsSchema = z.object({
  path: z.string().min(1),
  base: z.string().max(200).optional(),
  name: z
    .string()
    .regex(
      /^(?:[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/,
      "--name: expected OWNER/NAME or NAME in lowercase slugs",
    )
    .optional(),
  version: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "--version: 1-64 of A-Z a-z 0-9 . _ -")
    .default("v1"),
  description: z.string().max(10_000).optional(),
  hub: z.string().optional(),
  json: z.boolean().optional(),
});
export type PublishOptions = z.input<typeof publishOptionsSchema>;

export interface PublishResult {
  owner: string;
  name: string;
  version: string;
  digest: string;
  format: string;
  files: { path: string; sha256: string; size: number }[];
  warnings: string[];
}

/** Which files to send: a PEFT folder's config, weights and card, or one GGUF / kohya file. Pickle is refused here already. */
function filesOf(p: string): string[] {
  if (!existsSync(p)) throw new CliError(`${p}: no such file or folder`);
  if (statSync(p).isFile()) {
    if (/\.(bin|pt|pth|pkl|ckpt)$/i.test(p))
      throw new CliError(pickleRefusedMessage(path.basename(p)), "PickleRefused");
    return [p];
  }
  if (!existsSync(path.join(p, PEFT_WEIGHTS_FILE)) && existsSync(path.join(p, PEFT_PICKLE_FILE))) {
    throw new CliError(pickleRefusedMessage(), "PickleRefused");
  }
  const files = [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, MODEL_CARD_FILE]
    .map((f) => path.join(p, f))
    .filter((f) => existsSync(f));
  if (!files.some((f) => f.endsWith(PEFT_WEIGHTS_FILE))) {
    throw new CliError(
      `${p}: expected a PEFT folder (${PEFT_CONFIG_FILE} + ${PEFT_WEIGHTS_FILE}) or a .gguf / kohya .safetensors file`,
    );
  }
  return files;
}

/** The base named in the adapter: `base_model_name_or_path` of the config, else `base_model` of the card. */
async function baseOf(p: string): Promise<string | undefined> {
  if (!statSync(p).isDirectory()) return undefined;
  const config = path.join(p, PEFT_CONFIG_FILE);
  if (existsSync(config)) {
    const name = (JSON.parse(await readFile(config, "utf8")) as { base_model_name_or_path?: unknown })
      .base_model_name_or_path;
    if (typeof name === "string" && name) return name;
  }
  const card = path.join(p, MODEL_CARD_FILE);
  if (existsSync(card)) {
    const base = parseModelCard(await readFile(card)).data?.base_model;
    if (typeof base === "string") return base;
  }
  return undefined;
}

/** Uploads the files (streamed, with progress bars) and publishes them as one new version. */
export async function publish(io: CliIO, raw: PublishOptions): Promise<PublishResult> {
  const parsed = publishOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join("; "));
  const o = parsed.data;
  const files = filesOf(o.path);
  const base = o.base ?? (await baseOf(o.path));
  if (!base) throw new CliError(`${o.path}: no base model named in adapter_config.json or README.md; pass --base NAME`);
  const hub = await resolveHub(o.hub);
  if (!hub.token) throw new CliError(`no token for ${hub.url}: run lowrank login --hub ${hub.url}`, "Unauthorized");
  let owner: string | undefined;
  let name: string;
  if (o.name?.includes("/")) [owner, name] = o.name.split("/") as [string, string];
  else {
    name =
      o.name ??
      path
        .basename(path.resolve(o.path))
        .toLowerCase()
        .replace(/\.[^.]+$/, "")
        .replace(/[^a-z0-9._-]+/g, "-")
        .replace(/^[-._]+|[-._]+$/g, "");
    if (!SLUG.test(name)) throw new CliError(`cannot make an adapter name from ${o.path}; pass --name OWNER/NAME`);
  }
  const uploaded = [];
  for (const f of files) uploaded.push({ path: path.basename(f), ...(await uploadFile(io, hub, f)) });
  return trpc<PublishResult>(
    hub,
    "adapters.publish",
    { owner, name, version: o.version, base, files: uploaded, description: o.description },
    "mutation",
  );
}

export function registerPublish(program: Command, io: CliIO = processIO): void {
  program
    .command("publish")
    .description("publish a PEFT folder (or a GGUF / kohya file) to a hub as a new, immutable version")
    .argument("<path>", "PEFT adapter folder, .gguf LoRA or kohya .safetensors")
    .option("--base <name>", "base model on the hub (default: from adapter_config.json or README.md)")
    .option("--name <owner/name>", "adapter name (default: your username and the folder name)")
    .option("--version <label>", "version label", "v1")
    .option("--description <text>", "one-line description")
    .option("--hub <url>", "hub URL (default: the one from lowrank login)")
    .option("--json", "print JSON")
    .action(async (p: string, o: Omit<PublishOptions, "path">) => {
      const result = await publish(io, { ...o, path: p });
      if (o.json) return printJson(io, result);
      io.stdout.write(
        `published ${result.owner}/${result.name}@${result.version} (${result.format}) digest ${result.digest}\n`,
      );
      for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
    });
}
