import { hostname } from "node:os";
import type { Command } from "commander";
import { z } from "zod";
import { CliError } from "../errors.js";
import { credentialsPath, normalizeHubUrl, readCredentials, writeCredentials } from "../hub/credentials.js";
import { trpc } from "../hub/hubApi.js";
import { type CliIO, printJson, processIO } from "../output.js";

export const loginOptionsSchema = z
  .object({
    hub: z.string().min(1, "--hub URL is required"),
    token: z.string().startsWith("hf_", "--token: expected a hub API token starting with hf_").optional(),
    email: z.email("--email: expected an email address").optional(),
    passwordStdin: z.boolean().optional(),
    json: z.boolean().optional(),
  })
  .refine(
    (o) => (o.token ? !o.email : o.email && o.passwordStdin),
    "give --token TOKEN, or --email EMAIL with --password-stdin",
  );
export type LoginOptions = z.infer<typeof loginOptionsSchema>;

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stdin) text += String(chunk);
  return text.replace(/\r?\n$/, "");
}

/**
 * Stores a token for a hub (mode 0600, outside any repository): the token given, or a new one made
 * by signing in with email and password (read from stdin, never from the command line).
 */
export async function login(
  raw: LoginOptions,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<{ hub: string; username: string; credentials: string }> {
  const parsed = loginOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(parsed.error.issues.map((i) => i.message).join("; "));
  const o = parsed.data;
  const url = normalizeHubUrl(o.hub);
  let token = o.token;
  if (!token) {
    const password = await readStdin(stdin);
    const response = await fetch(`${url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: url },
      body: JSON.stringify({ email: o.email, password }),
    }).catch((error: Error) => {
      throw new CliError(`cannot reach the hub at ${url}: ${error.message}`, "HubUnreachable");
    });
    if (!response.ok)
      throw new CliError(
        `sign-in at ${url} failed: HTTP ${response.status}${response.status === 429 ? " (too many attempts; wait a minute)" : ""}`,
        "SignInFailed",
      );
    const cookie = response.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const created = await trpc<{ token: string }>(
      { url },
      "tokens.create",
      { name: `lowrank-cli ${hostname()}`.slice(0, 32).replace(/[^\w .-]/g, "-") },
      "mutation",
      { cookie },
    );
    token = created.token;
  }
  const me = await trpc<{ username: string }>({ url, token }, "tokens.whoami", undefined);
  const file = credentialsPath();
  const credentials = await readCredentials(file);
  credentials.hubs[url] = { token, username: me.username };
  credentials.default = url;
  await writeCredentials(credentials, file);
  return { hub: url, username: me.username, credentials: file };
}

export function registerLogin(program: Command, io: CliIO = processIO): void {
  program
    .command("login")
    .description("store an API token for a hub (from --token, or by signing in with --email and --password-stdin)")
    .requiredOption("--hub <url>", "hub URL, e.g. http://localhost:3000")
    .option("--token <hf_token>", "an API token made on the hub")
    .option("--email <email>", "sign in with this email (password read from stdin)")
    .option("--password-stdin", "read the password from stdin")
    .option("--json", "print JSON")
    .action(async (o: LoginOptions) => {
      const result = await login(o);
      if (o.json) printJson(io, result);
      else io.stdout.write(`logged in to ${result.hub} as ${result.username}; token stored in ${result.credentials}\n`);
    });
}
