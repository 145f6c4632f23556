import { handleHubRequest } from "@lowrank/api/hub";
import { getHub } from "../../../../../server/hub.js";

export const dynamic = "force-dynamic";

// Hugging Face's `/{owner}/{name}/resolve/{rev}/{path}`: file bytes with ETag, X-Repo-Commit, ranges.
async function handler(req: Request): Promise<Response> {
  return handleHubRequest(await getHub(), req);
}

export { handler as GET, handler as HEAD, handler as OPTIONS };
