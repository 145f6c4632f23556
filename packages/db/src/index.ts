// Query builders from the one drizzle-orm copy the schema was built with (apps never import drivers).
export {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  ne,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
export type { CreateDbOptions, Database, DbHandle, DbKind, Schema } from "./client.js";
export { createDb, redactUrl } from "./client.js";
export type { DbErrorCode } from "./DbError.js";
export { DbError, isDbError } from "./DbError.js";
export type { DbEnv } from "./env.js";
export { dbEnvSchema, defaultDataDir, findRepoRoot, parseDbEnv } from "./env.js";
export type { MigrateOptions } from "./migrate.js";
export { migrate, migrationsFolder } from "./migrate.js";
export { rows } from "./rows.js";
export type {
  Adapter,
  AdapterFormat,
  AdapterVersion,
  Base,
  InsertAdapter,
  InsertAdapterVersion,
  VersionFile,
} from "./schema.js";
export {
  account,
  adapterFormats,
  adapters,
  adapterVersions,
  apikey,
  BASE_NAME_PATTERN,
  bases,
  DIGEST_PATTERN,
  downloads,
  insertAdapterSchema,
  insertAdapterVersionSchema,
  likes,
  rateLimit,
  SLUG_PATTERN,
  session,
  user,
  verification,
  versionFiles,
} from "./schema.js";
export { serverVersion } from "./serverVersion.js";
