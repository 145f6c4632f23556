import { z } from "zod";
import { sessionFrom } from "../hub/auth.js";
import type { HubServices } from "../hub/HubServices.js";
import { digestSchema } from "../hub/schemas.js";
import { crossSiteCookieWrite } from "./csrf.js";
import { errorResponse, json } from "./responses.js";

const uploadQuerySchema = z.object({
  /** When given, the bytes must hash to it. */
  sha256: digestSchema.optional(),
});

/**
 * `PUT /api/uploads[?sha256=...]` with the raw file as the body: streamed into the blob store while
 * it is hashed, never buffered whole, refused past the size limit (413) or when shorter than its
 * Content-Length. Answers `{sha256, size}`; a publish then names the file by that digest.
 */
export async function handleUpload(hub: HubServices, request: Request): Promise<Response> {
  try {
    const forged = crossSiteCookieWrite(hub, request);
    if (forged) return forged;
    const session = await sessionFrom(hub.auth, request.headers);
    if (!session)
      return json(
        {
          error: {
            code: "UNAUTHORIZED",
            message: "uploads need a signed-in user or an API token (Authorization: Bearer hf_...)",
          },
        },
        401,
      );
    const url = new URL(request.url);
    const query = uploadQuerySchema.parse({ sha256: url.searchParams.get("sha256") ?? undefined });
    const declared = request.headers.get("content-length");
    const expectedSize = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (expectedSize !== undefined && expectedSize > hub.maxUploadBytes) {
      await request.body?.cancel().catch(() => {});
      return json(
        {
          error: {
            code: "TooLarge",
            message: `expected at most ${hub.maxUploadBytes} bytes, Content-Length says ${expectedSize}`,
          },
        },
        413,
      );
    }
    if (!request.body)
      return json(
        { error: { code: "BAD_REQUEST", message: "expected the file as the request body, found none" } },
        400,
      );
    const stored = await hub.blobs.put(request.body as unknown as AsyncIterable<Uint8Array>, {
      maxBytes: hub.maxUploadBytes,
      expectedSize,
      expectedSha256: query.sha256,
    });
    return json(stored, 201);
  } catch (error) {
    // The client hung up mid-body: the blob store already dropped the partial file.
    if ((error as Error)?.message === "aborted" || (error as { code?: string })?.code === "ECONNRESET") {
      return json({ error: { code: "Truncated", message: "the upload ended before its last byte" } }, 400);
    }
    return errorResponse(error);
  }
}
