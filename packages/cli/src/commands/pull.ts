import { readFile } from "node:fs/promises";
import path from "node:path";
import { adapterDigest, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from "@lowrank/formats";
import type { Command } from "commander";
import { z } from "zod";
import { CliError } from "../errors.js";
import { resolveHub } from "../hub/credentials.js";
import { downloadFile } from "../hub/transfer.js";
import { type CliIO, printJson, processIO } from "../output.js";

export const pullOptionsSchema = z.object({
  ref: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(?:@[A-Za-z0-9][A-Za-z0-9._-]{0,63})?$/,
      "expected OWNER/NAME or OWNER/NAME@VERSION",
    ),
  out: z.string().min(1).optional(),
  hub: z.string().optional(),
  json: z.boolean().optional(),
});
export type PullOptions = z.input<typeof pullOptionsSchema>;

interface ModelInfo {
  sha: string;
  siblings: { rfilename: string; size: number; lfs: { sha256: string; size: number } }[];
  lowrank?: { digest: string; version: string };
}

/** Every file of a version into a folder, each checked against its sha256, then the whole against the version digest. */
export async function pull(
  io: CliIO,
  raw: PullOptions,
): Promise<{ ref: string; version: string; digest: string; out: string; files: string[] }> {
  const parsed = pullOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join("; "));
  const o = parsed.data;
  const [repo, version] = o.ref.split("@") as [string, string | undefined];
  const hub = await resolveHub(o.hub);
  const response = await fetch(`${hub.url}/api/models/${repo}/revision/${encodeURIComponent(version ?? "main")}`).catch(
    (error: Error) => {
      throw new CliError(`cannot reach the hub at ${hub.url}: ${error.message}`, "HubUnreachable");
    },
  );
  if (!response.ok)
    throw new CliError(`${o.ref}: ${response.headers.get("x-error-code") ?? `HTTP ${response.status}`}`, "NotFound");
  const info = (await response.json()) as ModelInfo;
  const out = path.resolve(o.out ?? repo.split("/")[1]!);
  for (const f of info.siblings) {
    if (f.rfilename.split("/").some((s) => s === ".." || s === "") || path.isAbsolute(f.rfilename)) {
      throw new CliError(`${o.ref}: refusing file name ${JSON.stringify(f.rfilename)} from the hub`);
    }
    await downloadFile(io, `${hub.url}/${repo}/resolve/${info.sha}/${f.rfilename}`, path.join(out, f.rfilename), f.lfs);
  }
  const digest = adapterDigest({
    [PEFT_CONFIG_FILE]: new Uint8Array(await readFile(path.join(out, PEFT_CONFIG_FILE))),
    [PEFT_WEIGHTS_FILE]: new Uint8Array(await readFile(path.join(out, PEFT_WEIGHTS_FILE))),
  });
  if (info.lowrank && digest !== info.lowrank.digest) {
    throw new CliError(
      `${o.ref}: expected version digest ${info.lowrank.digest}, the pulled files give ${digest}`,
      "DigestMismatch",
    );
  }
  return {
    ref: o.ref,
    version: info.lowrank?.version ?? version ?? "main",
    digest,
    out,
    files: info.siblings.map((s) => s.rfilename),
  };
}

export function registerPull(program: Command, io: CliIO = processIO): void {
  program
    .command("pull")
    .description("download an adapter version from a hub, checking every file's sha256 and the version digest")
    .argument("<ref>", "OWNER/NAME or OWNER/NAME@VERSION")
    .option("--out <dir>", "folder to write (default: ./NAME)")
    .option("--hub <url>", "hub URL (default: the one from lowrank login)")
    .option("--json", "print JSON")
    .action(async (ref: string, o: Omit<PullOptions, "ref">) => {
      const result = await pull(io, { ...o, ref });
      if (o.json) return printJson(io, result);
      io.stdout.write(`pulled ${result.ref} (${result.version}) into ${result.out}: digest ${result.digest}\n`);
    });
}
