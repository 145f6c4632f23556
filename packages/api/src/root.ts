import { health, healthDetails } from "./router/health.js";
import { createCallerFactory, createTRPCRouter } from "./trpc.js";

export const appRouter = createTRPCRouter({
  health,
  healthDetails,
});

export type AppRouter = typeof appRouter;

/** Server-side caller: `createCaller(createTRPCContext({...})).health()`. */
export const createCaller = createCallerFactory(appRouter);
