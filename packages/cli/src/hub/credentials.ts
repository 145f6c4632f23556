import { mkdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { replaceFileAtomically } from "@lowrank/formats/node";
import { z } from "zod";
import { CliError } from "../errors.js";

const credentialsSchema = z.object({
  /** The hub used when a command gets no --hub. */
  default: z.string().optional(),
  hubs: z.record(z.string(), z.object({ token: z.string().startsWith("hf_"), username: z.string().optional() })),
});
export type Credentials = z.infer<typeof credentialsSchema>;

/**
 * Where `lowrank login` keeps tokens: `$LOWRANK_CONFIG_DIR/credentials.json`, else
 * `$XDG_CONFIG_HOME/lowrank/...`, else `~/.config/lowrank/...`. Never inside a repository.
 */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.LOWRANK_CONFIG_DIR ?? path.join(env.XDG_CONFIG_HOME ?? path.join(homedir(), ".config"), "lowrank");
  return path.join(dir, "credentials.json");
}

export async function readCredentials(file = credentialsPath()): Promise<Credentials> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return { hubs: {} };
  }
  const parsed = credentialsSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new CliError(`${file}: expected lowrank credentials, found something else; run lowrank login again`);
  return parsed.data;
}

/** Writes the file with mode 0600 (owner only), through a temporary file and a rename. */
export async function writeCredentials(credentials: Credentials, file = credentialsPath()): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await replaceFileAtomically(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

/** The normalized hub URL (origin and path, no trailing slash). */
export function normalizeHubUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--hub: expected a URL such as http://localhost:3000, found ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new CliError(`--hub: expected http: or https:, found ${parsed.protocol}`);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** The hub to talk to and its token: --hub, else LOWRANK_HUB, else the default from `lowrank login`. */
export async function resolveHub(
  hub: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; token: string | undefined }> {
  const credentials = await readCredentials(credentialsPath(env));
  const chosen = hub ?? env.LOWRANK_HUB ?? credentials.default;
  if (!chosen) throw new CliError("no hub: pass --hub URL, set LOWRANK_HUB, or run lowrank login --hub URL");
  const url = normalizeHubUrl(chosen);
  return { url, token: env.LOWRANK_TOKEN ?? credentials.hubs[url]?.token };
}
