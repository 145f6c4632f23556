import { getHub } from "../../../../server/hub.js";

export const dynamic = "force-dynamic";

// better-auth: sign-up, sign-in, sign-out, sessions, API keys.
async function handler(req: Request): Promise<Response> {
  return (await getHub()).auth.handler(req);
}

export { handler as GET, handler as POST };
