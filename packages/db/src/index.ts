export { createDb, redactUrl } from "./client.js";
export type { CreateDbOptions, Database, DbHandle, DbKind, Schema } from "./client.js";
export { DbError, isDbError } from "./DbError.js";
export type { DbErrorCode } from "./DbError.js";
export { dbEnvSchema, defaultDataDir, findRepoRoot, parseDbEnv } from "./env.js";
export type { DbEnv } from "./env.js";
export { migrate, migrationsFolder } from "./migrate.js";
export type { MigrateOptions } from "./migrate.js";
export { serverVersion } from "./serverVersion.js";
export {
  adapterFormats,
  adapterVersions,
  adapters,
  DIGEST_PATTERN,
  insertAdapterSchema,
  insertAdapterVersionSchema,
  SLUG_PATTERN,
} from "./schema.js";
export type { Adapter, AdapterVersion, InsertAdapter, InsertAdapterVersion } from "./schema.js";
