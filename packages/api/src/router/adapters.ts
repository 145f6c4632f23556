import { adapters as adaptersTable, adapterVersions, and, desc, eq, likes, sql, versionFiles } from "@lowrank/db";
import { parseModelCard } from "@lowrank/formats";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { publishVersion } from "../hub/publish.js";
import { commitOf } from "../hub/repo.js";
import { publishInputSchema, slugSchema, versionLabelSchema } from "../hub/schemas.js";
import { searchAdapters } from "../hub/search.js";
import type { Context, Session } from "../trpc.js";
import { authedHubProcedure, authedProcedure, createTRPCRouter, publicProcedure } from "../trpc.js";

const repoSchema = z.object({ owner: slugSchema, name: slugSchema });

async function ownAdapter(ctx: Context & { session: Session }, owner: string, name: string) {
  const [adapter] = await ctx.db
    .select()
    .from(adaptersTable)
    .where(and(eq(adaptersTable.owner, owner), eq(adaptersTable.name, name)));
  if (!adapter) throw new TRPCError({ code: "NOT_FOUND", message: `adapter ${owner}/${name}: not found` });
  if (adapter.ownerId !== ctx.session.user.id && ctx.session.user.role !== "admin") {
    throw new TRPCError({ code: "FORBIDDEN", message: `adapter ${owner}/${name} belongs to another user` });
  }
  return adapter;
}

export const adapters = createTRPCRouter({
  /** A new adapter, or a new version of one you own, from files uploaded with `PUT /api/uploads`. */
  publish: authedHubProcedure
    .input(publishInputSchema)
    .mutation(({ ctx, input }) => publishVersion(ctx.hub, ctx.session, input)),

  get: publicProcedure
    .input(repoSchema.extend({ version: versionLabelSchema.optional() }))
    .query(async ({ ctx, input }) => {
      const [adapter] = await ctx.db
        .select()
        .from(adaptersTable)
        .where(and(eq(adaptersTable.owner, input.owner), eq(adaptersTable.name, input.name)));
      if (!adapter)
        throw new TRPCError({ code: "NOT_FOUND", message: `adapter ${input.owner}/${input.name}: not found` });
      const versions = await ctx.db
        .select()
        .from(adapterVersions)
        .where(eq(adapterVersions.adapterId, adapter.id))
        .orderBy(desc(adapterVersions.createdAt));
      const current = input.version
        ? versions.find((v) => v.version === input.version)
        : versions.find((v) => v.id === adapter.latestVersionId);
      if (!current)
        throw new TRPCError({
          code: "NOT_FOUND",
          message: `adapter ${input.owner}/${input.name}: no version ${input.version ?? "published yet"}`,
        });
      const files = await ctx.db
        .select()
        .from(versionFiles)
        .where(eq(versionFiles.versionId, current.id))
        .orderBy(versionFiles.path);
      const { search: _search, ...rest } = adapter;
      return {
        adapter: rest,
        version: { ...current, commit: commitOf(current.digest) },
        files,
        versions: versions.map((v) => ({
          version: v.version,
          digest: v.digest,
          createdAt: v.createdAt,
          rank: v.rank,
          format: v.format,
        })),
      };
    }),

  list: publicProcedure
    .input(
      z.object({
        owner: slugSchema.optional(),
        base: z.string().max(200).optional(),
        limit: z.int().min(1).max(100).default(20),
        cursor: z.string().max(300).optional(),
      }),
    )
    .query(({ ctx, input }) => searchAdapters(ctx.db, { ...input, sort: "newest" })),

  /** Replace the model card (README.md body and front matter). Versions keep the card they were published with. */
  editCard: authedProcedure
    .input(repoSchema.extend({ card: z.string().max(256 * 1024) }))
    .mutation(async ({ ctx, input }) => {
      const adapter = await ownAdapter(ctx, input.owner, input.name);
      let card: ReturnType<typeof parseModelCard>;
      try {
        card = parseModelCard(input.card);
      } catch (error) {
        throw new TRPCError({ code: "BAD_REQUEST", message: (error as Error).message });
      }
      const data = card.data ?? {};
      const tags = Array.isArray(data.tags)
        ? [...new Set(data.tags.map((t) => String(t).toLowerCase().slice(0, 64)))].slice(0, 32)
        : adapter.tags;
      await ctx.db
        .update(adaptersTable)
        .set({
          card: card.body,
          cardData: { ...(adapter.cardData ?? {}), ...data },
          tags,
          tagText: tags.join(" "),
          license: typeof data.license === "string" ? data.license.slice(0, 64) : adapter.license,
          task: typeof data.pipeline_tag === "string" ? data.pipeline_tag.slice(0, 64) : adapter.task,
        })
        .where(eq(adaptersTable.id, adapter.id));
      return { ok: true as const };
    }),

  delete: authedProcedure.input(repoSchema).mutation(async ({ ctx, input }) => {
    const adapter = await ownAdapter(ctx, input.owner, input.name);
    await ctx.db.delete(adaptersTable).where(eq(adaptersTable.id, adapter.id));
    return { deleted: `${input.owner}/${input.name}` };
  }),

  /** Like or unlike (idempotent); the count changes in the same transaction. */
  like: authedProcedure
    .input(repoSchema.extend({ like: z.boolean().default(true) }))
    .mutation(async ({ ctx, input }) => {
      const [adapter] = await ctx.db
        .select({ id: adaptersTable.id })
        .from(adaptersTable)
        .where(and(eq(adaptersTable.owner, input.owner), eq(adaptersTable.name, input.name)));
      if (!adapter)
        throw new TRPCError({ code: "NOT_FOUND", message: `adapter ${input.owner}/${input.name}: not found` });
      return ctx.db.transaction(async (tx) => {
        const changed = input.like
          ? await tx
              .insert(likes)
              .values({ userId: ctx.session.user.id, adapterId: adapter.id })
              .onConflictDoNothing()
              .returning()
          : await tx
              .delete(likes)
              .where(and(eq(likes.userId, ctx.session.user.id), eq(likes.adapterId, adapter.id)))
              .returning();
        const [row] = await tx
          .update(adaptersTable)
          .set({
            likes: sql`${adaptersTable.likes} + ${changed.length === 0 ? 0 : input.like ? 1 : -1}`,
            updatedAt: sql`${adaptersTable.updatedAt}`,
          })
          .where(eq(adaptersTable.id, adapter.id))
          .returning({ likes: adaptersTable.likes });
        return { liked: input.like, likes: row!.likes };
      });
    }),
});
