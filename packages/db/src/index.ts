export type { CreateDbOptions, Database, DbHandle, DbKind, Schema } from "./client.js";
export { createDb, redactUrl } from "./client.js";
export type { DbErrorCode } from "./DbError.js";
export { DbError, isDbError } from "./DbError.js";
export type { DbEnv } from "./env.js";
export { dbEnvSchema, defaultDataDir, findRepoRoot, parseDbEnv } from "./env.js";
export type { MigrateOptions } from "./migrate.js";
export { migrate, migrationsFolder } from "./migrate.js";
export type { Adapter, AdapterVersion, InsertAdapter, InsertAdapterVersion } from "./schema.js";
export {
  adapterFormats,
  adapters,
  adapterVersions,
  DIGEST_PATTERN,
  insertAdapterSchema,
  insertAdapterVersionSchema,
  SLUG_PATTERN,
} from "./schema.js";
export { serverVersion } from "./serverVersion.js";
