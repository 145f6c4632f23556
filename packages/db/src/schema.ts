import { type SQL, sql } from "drizzle-orm";
import {
  bigint,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { z } from "zod";
import { user } from "./authSchema.js";

export { account, apikey, rateLimit, session, user, verification } from "./authSchema.js";

/**
 * Hub tables. A `base` is a frozen model identified by its manifest digest. An `adapter` is a named,
 * owned line of work (`owner/name`) trained against one base; each published upload is an
 * `adapter_version`, immutable, identified by the sha256 digest of its canonical PEFT files (the key
 * the hub, the CLI and the runtime cache share), with its files in `version_files` (content in the
 * blob store, by sha256). Rank, alpha and target modules belong to the version. The adapter row also
 * carries the latest version's rank and format and a weighted tsvector, so one index answers a search.
 */

/** Lowercase slug used for owners and adapter names: `a-z0-9`, `-`, `_`, `.`; 1 to 64 characters. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
/** A sha256 digest as 64 lowercase hexadecimal characters, without a prefix. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;
/** Base model names: Hugging Face ids (`openai-community/gpt2`) or local names (`gpt2-tiny`). */
export const BASE_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,95})(?:\/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,95}))?$/;

const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const bases = pgTable(
  "bases",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull().unique(),
    architecture: text("architecture").notNull(),
    modelType: text("model_type").notNull(),
    /** The Hugging Face `config.json`. */
    config: jsonb("config").$type<Record<string, unknown>>().notNull(),
    /** `@lowrank/formats`' BaseManifest: module names, shapes, layouts. */
    manifest: jsonb("manifest").$type<Record<string, unknown>>().notNull(),
    /** Not unique: two checkpoints of one architecture and size (gpt2, DialoGPT-small) share a manifest. */
    manifestDigest: text("manifest_digest").notNull(),
    license: text("license"),
    description: text("description").notNull().default(""),
    /** Weight files in the blob store, when the hub holds them (needed for inference). */
    weightFiles: jsonb("weight_files").$type<{ path: string; sha256: string; size: number }[]>().notNull().default([]),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [index("bases_manifest_digest_idx").on(t.manifestDigest)],
);

export const adapters = pgTable(
  "adapters",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    baseId: uuid("base_id")
      .notNull()
      .references(() => bases.id, { onDelete: "restrict" }),
    /** Name of the base model, for people (`gpt2`). */
    baseModel: text("base_model").notNull(),
    /** Manifest digest of the base model, for machines. */
    baseDigest: text("base_digest").notNull(),
    description: text("description").notNull().default(""),
    /** Hugging Face `pipeline_tag` (`text-generation`, `text-classification`...). */
    task: text("task"),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    /** The tags joined by spaces (the search column needs an immutable expression). */
    tagText: text("tag_text").notNull().default(""),
    license: text("license"),
    /** The model card's Markdown body; its YAML front matter is `cardData`. */
    card: text("card").notNull().default(""),
    cardData: jsonb("card_data").$type<Record<string, unknown>>(),
    downloads: integer("downloads").notNull().default(0),
    likes: integer("likes").notNull().default(0),
    latestVersionId: uuid("latest_version_id"),
    latestRank: integer("latest_rank"),
    latestFormat: text("latest_format"),
    search: tsvector("search").generatedAlwaysAs(
      (): SQL =>
        sql`setweight(to_tsvector('english', coalesce(${adapters.owner}, '') || ' ' || coalesce(${adapters.name}, '')), 'A') || setweight(to_tsvector('english', coalesce(${adapters.tagText}, '')), 'B') || setweight(to_tsvector('english', coalesce(${adapters.description}, '')), 'B') || setweight(to_tsvector('english', coalesce(${adapters.card}, '')), 'C')`,
    ),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at")
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    uniqueIndex("adapters_owner_name_key").on(t.owner, t.name),
    index("adapters_base_id_idx").on(t.baseId),
    index("adapters_base_model_downloads_idx").on(t.baseModel, t.downloads, t.id),
    index("adapters_name_lower_idx").on(sql`lower(${t.name})`),
    index("adapters_search_idx").using("gin", t.search),
    index("adapters_tags_idx").using("gin", t.tags),
    index("adapters_downloads_idx").on(t.downloads, t.id),
    index("adapters_likes_idx").on(t.likes, t.id),
    index("adapters_created_idx").on(t.createdAt, t.id),
  ],
);

export const insertAdapterSchema = z.object({
  owner: z.string().regex(SLUG_PATTERN, "owner must be a lowercase slug"),
  name: z.string().regex(SLUG_PATTERN, "name must be a lowercase slug"),
  ownerId: z.string().min(1),
  baseId: z.uuid(),
  description: z.string().max(10_000).optional(),
  baseModel: z.string().min(1).max(200),
  baseDigest: z.string().regex(DIGEST_PATTERN, "baseDigest must be 64 lowercase hex characters"),
});
export type InsertAdapter = z.infer<typeof insertAdapterSchema>;
export type Adapter = typeof adapters.$inferSelect;
export type Base = typeof bases.$inferSelect;

export const adapterFormats = ["peft", "gguf", "kohya"] as const;
export type AdapterFormat = (typeof adapterFormats)[number];

export const adapterVersions = pgTable(
  "adapter_versions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    adapterId: uuid("adapter_id")
      .notNull()
      .references(() => adapters.id, { onDelete: "cascade" }),
    /** Human label chosen by the publisher (`v1`, `1.2.0`, `epoch-3`). */
    version: text("version").notNull(),
    /** sha256 of the canonical PEFT files: the identity of this version everywhere. */
    digest: text("digest").notNull().unique(),
    rank: integer("rank").notNull(),
    alpha: real("alpha").notNull(),
    targetModules: text("target_modules").array().notNull(),
    /** Tensor dtype of the LoRA factors (`F32`, `F16`, `BF16`). */
    dtype: text("dtype").notNull().default("F32"),
    /** `peft`, `gguf`, `kohya`: the format the files were uploaded in. */
    format: text("format").notNull().default("peft"),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    publisherId: text("publisher_id").references(() => user.id, { onDelete: "set null" }),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("adapter_versions_adapter_version_key").on(t.adapterId, t.version)],
);

export const insertAdapterVersionSchema = z.object({
  adapterId: z.uuid(),
  version: z.string().min(1).max(64),
  digest: z.string().regex(DIGEST_PATTERN, "digest must be 64 lowercase hex characters"),
  rank: z.int().min(1).max(65_536),
  alpha: z.number().positive().finite(),
  targetModules: z.array(z.string().min(1)).min(1),
  format: z.enum(adapterFormats).optional(),
  sizeBytes: z.int().min(0),
});
export type InsertAdapterVersion = z.infer<typeof insertAdapterVersionSchema>;
export type AdapterVersion = typeof adapterVersions.$inferSelect;

/** One file of a version: content in the blob store under its sha256. */
export const versionFiles = pgTable(
  "version_files",
  {
    versionId: uuid("version_id")
      .notNull()
      .references(() => adapterVersions.id, { onDelete: "cascade" }),
    path: text("path").notNull(),
    sha256: text("sha256").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    /** `peft` (the canonical files), `original` (an uploaded GGUF / kohya file), `card`. */
    role: text("role").notNull().default("peft"),
  },
  (t) => [primaryKey({ columns: [t.versionId, t.path] }), index("version_files_sha256_idx").on(t.sha256)],
);
export type VersionFile = typeof versionFiles.$inferSelect;

export const downloads = pgTable(
  "downloads",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    adapterId: uuid("adapter_id")
      .notNull()
      .references(() => adapters.id, { onDelete: "cascade" }),
    versionId: uuid("version_id").references(() => adapterVersions.id, { onDelete: "cascade" }),
    userId: text("user_id").references(() => user.id, { onDelete: "set null" }),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [index("downloads_adapter_idx").on(t.adapterId, t.createdAt)],
);

export const likes = pgTable(
  "likes",
  {
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    adapterId: uuid("adapter_id")
      .notNull()
      .references(() => adapters.id, { onDelete: "cascade" }),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.adapterId] })],
);
