import { bases, eq } from "@lowrank/db";
import type { HubServices } from "../hub/HubServices.js";
import { baseNameSchema, filePathSchema } from "../hub/schemas.js";
import { CORS, errorResponse, json } from "./responses.js";

const TYPES: Record<string, string> = { json: "application/json", txt: "text/plain; charset=utf-8" };

/**
 * `GET /api/base-files?base=NAME&path=FILE`: one stored file of a base model (config.json,
 * model.safetensors, tokenizer.json...), for the playground, which loads the base in the browser.
 * Content-addressed, so a file never changes under its ETag.
 */
export async function handleBaseFile(hub: HubServices, request: Request): Promise<Response> {
  try {
    const url = new URL(request.url);
    const name = baseNameSchema.parse(url.searchParams.get("base") ?? "");
    const path = filePathSchema.parse(url.searchParams.get("path") ?? "");
    const [base] = await hub.database.db
      .select({ weightFiles: bases.weightFiles })
      .from(bases)
      .where(eq(bases.name, name));
    const file = base?.weightFiles.find((f) => f.path === path);
    if (!file) return json({ error: { code: "NOT_FOUND", message: `base ${name}: no stored file ${path}` } }, 404);
    const etag = `"${file.sha256}"`;
    if (request.headers.get("if-none-match") === etag)
      return new Response(null, { status: 304, headers: { ETag: etag } });
    const bytes = await hub.blobs.read(file.sha256);
    return new Response(bytes as BodyInit, {
      headers: {
        ...CORS,
        "Content-Type": TYPES[path.split(".").pop() ?? ""] ?? "application/octet-stream",
        "Content-Length": String(bytes.byteLength),
        ETag: etag,
        "Cache-Control": "public, max-age=0, must-revalidate",
      },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
