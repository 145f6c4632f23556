import { CliError, type CliErrorCode } from "../errors.js";

/** The CLI's code for a tRPC error code of the hub. */
export function cliCodeOf(trpcCode: string | undefined): CliErrorCode {
  const codes: Record<string, CliErrorCode> = {
    UNAUTHORIZED: "Unauthorized",
    FORBIDDEN: "Forbidden",
    NOT_FOUND: "NotFound",
    CONFLICT: "Conflict",
    BAD_REQUEST: "BadInput",
  };
  return codes[trpcCode ?? ""] ?? "HubError";
}

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
    const code = cliCodeOf(body.error.json?.data?.code);
    const hint = code === "Unauthorized" ? " (run lowrank login --hub URL)" : "";
    throw new CliError(`${body.error.json?.message ?? "hub error"}${hint}`, code);
  }
  return body.result?.data?.json as T;
}
