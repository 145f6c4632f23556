export type { AppRouter } from "./root.js";
export { appRouter, createCaller } from "./root.js";
export type { Context, CreateContextOptions, Session } from "./trpc.js";
export { authedProcedure, createTRPCContext, createTRPCRouter, publicProcedure } from "./trpc.js";
