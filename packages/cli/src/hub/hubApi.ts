import { CliError } from "../errors.js";

interface TrpcEnvelope {
  result?: { data?: { json?: unknown } };
  error?: { json?: { message?: string; data?: { code?: string } } };
}

/** Calls a tRPC procedure of the hub over plain HTTP (superjson envelope, no client library). */
export async function trpc<T>(
  hub: { url: string; token?: string },
  procedure: string,
  input: unknown,
  kind: "query" | "mutation" = "query",
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  const headers: Record<string, string> = {
    ...extraHeaders,
    ...(hub.token ? { authorization: `Bearer ${hub.token}` } : {}),
  };
  const url = `${hub.url}/api/trpc/${procedure}`;
  let response: Response;
  try {
    response =
      kind === "query"
        ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers })
        : await fetch(url, {
            method: "POST",
            headers: { ...headers, "content-type": "application/json" },
            body: JSON.stringify({ json: input }),
          });
  } catch (error) {
    throw new CliError(`cannot reach the hub at ${hub.url}: ${(error as Error).message}`, "HubUnreachable");
  }
  let body: TrpcEnvelope;
  try {
    body = (await response.json()) as TrpcEnvelope;
  } catch {
    throw new CliError(
      `${hub.url}: expected a lowrank hub answering /api/trpc, found HTTP ${response.status} without JSON`,
      "NotAHub",
    );
  }
  if (body.error) {
    const code = body.error.json?.data?.code ?? "HubError";
    const hint = code === "UNAUTHORIZED" ? " (run lowrank login --hub URL)" : "";
    throw new CliError(`${body.error.json?.message ?? "hub error"}${hint}`, code);
  }
  return body.result?.data?.json as T;
}
