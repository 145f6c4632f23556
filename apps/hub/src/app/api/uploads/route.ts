import { handleUpload } from "@lowrank/api/hub";
import { getHub } from "../../../server/hub.js";

export const dynamic = "force-dynamic";

// `PUT /api/uploads`: a raw body streamed into the blob store (never buffered, size-limited).
export async function PUT(req: Request): Promise<Response> {
  return handleUpload(await getHub(), req);
}
