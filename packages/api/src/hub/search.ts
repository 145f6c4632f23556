import { adapterFormats, adapters, and, type Database, desc, eq, gte, lte, type SQL, sql } from "@lowrank/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { baseNameSchema, licenseSchema, slugSchema, tagSchema, taskSchema } from "./schemas.js";

export const searchSorts = ["relevance", "downloads", "likes", "newest"] as const;

export const searchInputSchema = z
  .object({
    /** Web-search syntax: words, "quoted phrases", -excluded, or. */
    q: z.string().max(200).optional(),
    base: baseNameSchema.optional(),
    owner: slugSchema.optional(),
    task: taskSchema.optional(),
    license: licenseSchema.optional(),
    /** Every tag listed must be present. */
    tags: z.array(tagSchema).max(8).optional(),
    format: z.enum(adapterFormats).optional(),
    minRank: z.int().min(1).max(65_536).optional(),
    maxRank: z.int().min(1).max(65_536).optional(),
    /** Default: relevance when `q` is given, else downloads. */
    sort: z.enum(searchSorts).optional(),
    limit: z.int().min(1).max(500).default(20),
    /** `nextCursor` of the previous page. */
    cursor: z.string().max(300).optional(),
  })
  .refine((v) => v.minRank === undefined || v.maxRank === undefined || v.minRank <= v.maxRank, {
    message: "minRank must be at most maxRank",
    path: ["minRank"],
  });
export type SearchInput = z.input<typeof searchInputSchema>;

export interface SearchHit {
  id: string;
  owner: string;
  name: string;
  description: string;
  baseModel: string;
  task: string | null;
  tags: string[];
  license: string | null;
  downloads: number;
  likes: number;
  rank: number | null;
  format: string | null;
  createdAt: Date;
  updatedAt: Date;
  score: number;
}

const cursorSchema = z.tuple([z.union([z.number(), z.string()]), z.uuid()]);

function decodeCursor(cursor: string): [number | string, string] {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: "cursor: expected the nextCursor of a previous page, found something else",
    });
  }
}
const encodeCursor = (value: number | string, id: string) =>
  Buffer.from(JSON.stringify([value, id])).toString("base64url");

/**
 * Full-text search over name, tags, description and card (weighted tsvector, GIN index,
 * `websearch_to_tsquery`, `ts_rank`), with filters, four sorts and keyset pagination: a cursor holds
 * the last row's sort key and id, so a page costs the same however deep it is.
 */
export async function searchAdapters(
  db: Database,
  raw: SearchInput,
): Promise<{ items: SearchHit[]; nextCursor: string | null }> {
  const input = searchInputSchema.parse(raw);
  const q = input.q?.trim() ? input.q.trim() : undefined;
  const sort = input.sort ?? (q ? "relevance" : "downloads");
  if (sort === "relevance" && !q)
    throw new TRPCError({ code: "BAD_REQUEST", message: "sort relevance needs a query q" });
  const query = q ? sql`websearch_to_tsquery('english', ${q})` : undefined;
  const score = query ? sql<number>`ts_rank(${adapters.search}, ${query})` : sql<number>`0`;
  const where: (SQL | undefined)[] = [
    query ? sql`${adapters.search} @@ ${query}` : undefined,
    sql`${adapters.latestVersionId} is not null`,
    input.base ? eq(adapters.baseModel, input.base) : undefined,
    input.owner ? eq(adapters.owner, input.owner) : undefined,
    input.task ? eq(adapters.task, input.task) : undefined,
    input.license ? eq(adapters.license, input.license) : undefined,
    input.tags?.length
      ? sql`${adapters.tags} @> ${sql.param(input.tags.map((t) => t.toLowerCase()))}::text[]`
      : undefined,
    input.format ? eq(adapters.latestFormat, input.format) : undefined,
    input.minRank !== undefined ? gte(adapters.latestRank, input.minRank) : undefined,
    input.maxRank !== undefined ? lte(adapters.latestRank, input.maxRank) : undefined,
  ];
  const key: SQL =
    sort === "relevance"
      ? sql`${score}::float8`
      : sort === "downloads"
        ? sql`${adapters.downloads}`
        : sort === "likes"
          ? sql`${adapters.likes}`
          : sql`${adapters.createdAt}`;
  if (input.cursor) {
    const [value, id] = decodeCursor(input.cursor);
    const v = sort === "newest" ? sql`${String(value)}::timestamptz` : sql`${Number(value)}`;
    where.push(sql`(${key}, ${adapters.id}) < (${v}, ${id}::uuid)`);
  }
  const rows = await db
    .select({
      id: adapters.id,
      owner: adapters.owner,
      name: adapters.name,
      description: adapters.description,
      baseModel: adapters.baseModel,
      task: adapters.task,
      tags: adapters.tags,
      license: adapters.license,
      downloads: adapters.downloads,
      likes: adapters.likes,
      rank: adapters.latestRank,
      format: adapters.latestFormat,
      createdAt: adapters.createdAt,
      updatedAt: adapters.updatedAt,
      score: sql<number>`${score}::float8`,
      // Only the newest sort needs the key as text (microseconds; a JS Date keeps milliseconds).
      keyText: sort === "newest" ? sql<string>`${adapters.createdAt}::text` : sql<string>`''`,
    })
    .from(adapters)
    .where(and(...where))
    .orderBy(desc(key), desc(adapters.id))
    .limit(input.limit + 1);
  const more = rows.length > input.limit;
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  const keyOf = (row: NonNullable<typeof last>): number | string =>
    sort === "newest"
      ? row.keyText
      : sort === "downloads"
        ? row.downloads
        : sort === "likes"
          ? row.likes
          : Number(row.score);
  const nextCursor = more && last ? encodeCursor(keyOf(last), last.id) : null;
  return { items: page.map(({ keyText: _, ...hit }) => ({ ...hit, score: Number(hit.score) })), nextCursor };
}
