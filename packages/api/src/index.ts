export type { PublishedVersion } from "./hub/publish.js";
export type { SearchHit, SearchInput } from "./hub/search.js";
export type { AppRouter } from "./root.js";
export { appRouter, createCaller } from "./root.js";
export type { Context, CreateContextOptions, Session } from "./trpc.js";
export {
  adminProcedure,
  authedHubProcedure,
  authedProcedure,
  createTRPCContext,
  createTRPCRouter,
  hubProcedure,
  publicProcedure,
} from "./trpc.js";
