import { and, apikey, desc, eq } from "@lowrank/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedHubProcedure, authedProcedure, createTRPCRouter } from "../trpc.js";

/** API tokens (`hf_...`) for the CLI and Hugging Face clients: shown once, stored hashed, revocable. */
export const tokens = createTRPCRouter({
  /** Who the cookie or token belongs to. */
  whoami: authedProcedure.query(({ ctx }) => ({
    id: ctx.session.user.id,
    username: ctx.session.user.username ?? "",
    role: ctx.session.user.role ?? "user",
  })),
  create: authedHubProcedure
    .input(
      z.object({
        name: z
          .string()
          .trim()
          .min(1)
          .max(32)
          .regex(/^[\w .-]+$/, "name: letters, digits, space, '.', '-', '_'"),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const created = await ctx.hub.auth.api.createApiKey({ body: { name: input.name, userId: ctx.session.user.id } });
      return { id: created.id, name: created.name, start: created.start, token: created.key };
    }),
  list: authedProcedure.query(({ ctx }) =>
    ctx.db
      .select({
        id: apikey.id,
        name: apikey.name,
        start: apikey.start,
        createdAt: apikey.createdAt,
        lastRequest: apikey.lastRequest,
      })
      .from(apikey)
      .where(eq(apikey.referenceId, ctx.session.user.id))
      .orderBy(desc(apikey.createdAt)),
  ),
  revoke: authedProcedure.input(z.object({ id: z.string().min(1).max(200) })).mutation(async ({ ctx, input }) => {
    const gone = await ctx.db
      .delete(apikey)
      .where(and(eq(apikey.id, input.id), eq(apikey.referenceId, ctx.session.user.id)))
      .returning({ id: apikey.id });
    if (gone.length === 0)
      throw new TRPCError({ code: "NOT_FOUND", message: `token ${input.id}: none of yours has that id` });
    return { revoked: input.id };
  }),
});
