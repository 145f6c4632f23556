import { handleTrpc } from "@lowrank/api/hub";
import { getHub } from "../../../../server/hub.js";

export const dynamic = "force-dynamic";

async function handler(req: Request): Promise<Response> {
  return handleTrpc(await getHub(), req);
}

export { handler as GET, handler as POST };
