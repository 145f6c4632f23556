import { asc, bases as basesTable, eq } from "@lowrank/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { registerBase, registerBaseInputSchema } from "../hub/bases.js";
import { baseNameSchema } from "../hub/schemas.js";
import { adminProcedure, createTRPCRouter, publicProcedure } from "../trpc.js";

const summary = {
  id: basesTable.id,
  name: basesTable.name,
  architecture: basesTable.architecture,
  modelType: basesTable.modelType,
  manifestDigest: basesTable.manifestDigest,
  license: basesTable.license,
  description: basesTable.description,
  createdAt: basesTable.createdAt,
};

export const bases = createTRPCRouter({
  list: publicProcedure.query(({ ctx }) => ctx.db.select(summary).from(basesTable).orderBy(asc(basesTable.name))),
  get: publicProcedure.input(z.object({ name: baseNameSchema })).query(async ({ ctx, input }) => {
    const [base] = await ctx.db.select().from(basesTable).where(eq(basesTable.name, input.name));
    if (!base) throw new TRPCError({ code: "NOT_FOUND", message: `base ${input.name}: not registered on this hub` });
    return base;
  }),
  register: adminProcedure.input(registerBaseInputSchema).mutation(({ ctx, input }) => registerBase(ctx.hub, input)),
});
