import { handleBaseFile } from "@lowrank/api/hub";
import { getHub } from "../../../server/hub.js";

export const dynamic = "force-dynamic";

// `GET /api/base-files?base=NAME&path=FILE`: a base model's stored file, for the playground.
export async function GET(req: Request): Promise<Response> {
  return handleBaseFile(await getHub(), req);
}
