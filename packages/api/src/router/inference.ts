import { TRPCError } from "@trpc/server";
import { inferenceInputSchema } from "../hub/inference.js";
import { createTRPCRouter, hubProcedure } from "../trpc.js";

export const inference = createTRPCRouter({
  /** A base with no adapter, one adapter, or two with scales, on one input, through @lowrank/runtime's engine. */
  run: hubProcedure.input(inferenceInputSchema).mutation(({ ctx, input }) => {
    if (!ctx.hub.inference)
      throw new TRPCError({ code: "PRECONDITION_FAILED", message: "inference is turned off on this hub" });
    return ctx.hub.inference.run(input);
  }),
});
