import { appRouter, createTRPCContext } from "@lowrank/api";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getDatabase } from "../../../../server/database.js";

function handler(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: async () => createTRPCContext({ headers: req.headers, database: await getDatabase() }),
    onError: ({ path, error }) => {
      if (error.code === "INTERNAL_SERVER_ERROR" || error.code === "SERVICE_UNAVAILABLE") {
        console.error(`tRPC /api/trpc/${path ?? "?"} failed: ${error.message}`);
      }
    },
  });
}

export { handler as GET, handler as POST };
