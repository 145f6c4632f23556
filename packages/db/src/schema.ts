import { sql } from "drizzle-orm";
import { bigint, index, integer, pgTable, real, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { z } from "zod";

/**
 * Hub tables. An `adapter` is a named, owned line of work (`owner/name`) trained against one base
 * model; each published upload is an `adapter_version`, identified by the sha256 digest of its
 * canonical files (the key the hub, the CLI and the runtime cache share). Rank and target modules
 * belong to the version because they may change from one version to the next.
 */

/** Lowercase slug used for owners and adapter names: `a-z0-9`, `-`, `_`, `.`; 1 to 64 characters. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
/** A sha256 digest as 64 lowercase hexadecimal characters, without a prefix. */
export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

export const adapters = pgTable(
  "adapters",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    owner: text("owner").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    /** Hugging Face id or local name of the base model, for people (`gpt2`). */
    baseModel: text("base_model").notNull(),
    /** Manifest digest of the base model (module names and shapes), for machines. */
    baseDigest: text("base_digest"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true })
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    uniqueIndex("adapters_owner_name_key").on(t.owner, t.name),
    index("adapters_base_model_idx").on(t.baseModel),
    index("adapters_name_lower_idx").on(sql`lower(${t.name})`),
  ],
);

export const insertAdapterSchema = z.object({
  owner: z.string().regex(SLUG_PATTERN, "owner must be a lowercase slug"),
  name: z.string().regex(SLUG_PATTERN, "name must be a lowercase slug"),
  description: z.string().max(10_000).optional(),
  baseModel: z.string().min(1).max(200),
  baseDigest: z.string().regex(DIGEST_PATTERN, "baseDigest must be 64 lowercase hex characters").nullish(),
});
export type InsertAdapter = z.infer<typeof insertAdapterSchema>;
export type Adapter = typeof adapters.$inferSelect;

export const adapterVersions = pgTable(
  "adapter_versions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    adapterId: uuid("adapter_id")
      .notNull()
      .references(() => adapters.id, { onDelete: "cascade" }),
    /** Human label chosen by the publisher (`v1`, `1.2.0`, `epoch-3`). */
    version: text("version").notNull(),
    /** sha256 of the canonical files: the identity of this version everywhere. */
    digest: text("digest").notNull().unique(),
    rank: integer("rank").notNull(),
    alpha: real("alpha").notNull(),
    targetModules: text("target_modules").array().notNull(),
    /** `peft`, `gguf`, `kohya`: the format the files were uploaded in. */
    format: text("format").notNull().default("peft"),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("adapter_versions_adapter_version_key").on(t.adapterId, t.version)],
);

export const adapterFormats = ["peft", "gguf", "kohya"] as const;

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
