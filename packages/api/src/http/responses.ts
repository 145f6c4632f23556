import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { ZodError } from "zod";
import { isBlobError } from "../blobs/BlobError.js";

/** Hugging Face's error codes, read by its clients from `X-Error-Code`. */
export type HfErrorCode = "RepoNotFound" | "RevisionNotFound" | "EntryNotFound" | "BadRequest" | "Unauthorized";

/** Headers browsers may read and send (the `@huggingface/hub` client runs in browsers too). */
export const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers":
    "ETag, X-Linked-Etag, X-Linked-Size, X-Repo-Commit, X-Error-Code, X-Error-Message, Content-Range, Accept-Ranges, Link, Content-Length",
  "Access-Control-Allow-Headers": "Authorization, Range, Content-Type, X-Api-Key",
  "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST, OPTIONS",
};

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...CORS, ...headers },
  });
}

export function hfError(
  status: number,
  code: HfErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return json({ error: message }, status, { "X-Error-Code": code, "X-Error-Message": message, ...headers });
}

/** A typed error (zod, tRPC, blob store) as a JSON answer with the matching status; anything else is 500. */
export function errorResponse(error: unknown): Response {
  if (error instanceof ZodError) {
    const message = error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
    return json({ error: { code: "BAD_REQUEST", message } }, 400, { "X-Error-Code": "BadRequest" });
  }
  if (isBlobError(error)) {
    const status = error.code === "TooLarge" ? 413 : error.code === "NotFound" ? 404 : 400;
    return json({ error: { code: error.code, message: error.message } }, status);
  }
  if (error instanceof TRPCError) {
    return json({ error: { code: error.code, message: error.message } }, getHTTPStatusCodeFromError(error));
  }
  console.error(error);
  return json({ error: { code: "INTERNAL_SERVER_ERROR", message: "internal error" } }, 500);
}
