import { handleHubRequest } from "@lowrank/api/hub";
import { getHub } from "../../../../server/hub.js";

export const dynamic = "force-dynamic";

// Hugging Face's `/api/models[/{owner}/{name}[/revision|tree|paths-info/...]]`.
async function handler(req: Request): Promise<Response> {
  return handleHubRequest(await getHub(), req);
}

export { handler as GET, handler as OPTIONS, handler as POST };
