import { adapters } from "./router/adapters.js";
import { bases } from "./router/bases.js";
import { health, healthDetails } from "./router/health.js";
import { inference } from "./router/inference.js";
import { search } from "./router/search.js";
import { tokens } from "./router/tokens.js";
import { createCallerFactory, createTRPCRouter } from "./trpc.js";

export const appRouter = createTRPCRouter({
  health,
  healthDetails,
  bases,
  adapters,
  search,
  tokens,
  inference,
});

export type AppRouter = typeof appRouter;

/** Server-side caller: `createCaller(createTRPCContext({...})).health()`. */
export const createCaller = createCallerFactory(appRouter);
