import { dbEnvSchema } from "@lowrank/db";
import { z } from "zod";

/** Every environment variable the hub reads, validated once. Nothing else reads `process.env`. */
const hubEnvSchema = dbEnvSchema.extend({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** Signs session cookies. Without it one is made once in the data folder (instances sharing a database must set it). */
  LOWRANK_AUTH_SECRET: z.string().min(32, "LOWRANK_AUTH_SECRET must be at least 32 characters").optional(),
  /** The hub's public URL (for auth callbacks); default http://localhost:3000. */
  LOWRANK_PUBLIC_URL: z.url().optional(),
  /** Comma-separated emails that become admins when they sign up. */
  LOWRANK_ADMIN_EMAILS: z.string().optional(),
  LOWRANK_MAX_UPLOAD_BYTES: z.coerce.number().int().positive().optional(),
  /** `0` turns off the demo bases and adapters registered on first start. */
  LOWRANK_SEED_DEMO: z.enum(["0", "1"]).optional(),
  /** Blobs in this S3 bucket instead of `<data dir>/blobs`; credentials come from the AWS_* variables. */
  LOWRANK_S3_BUCKET: z.string().min(3).optional(),
  LOWRANK_S3_ENDPOINT: z.url().optional(),
  LOWRANK_S3_REGION: z.string().optional(),
  LOWRANK_S3_PREFIX: z.string().optional(),
});

export type HubEnv = z.infer<typeof hubEnvSchema>;

/** Parse the hub's environment; throws with every bad variable named. */
export function parseHubEnv(source: Record<string, string | undefined> = process.env): HubEnv {
  const parsed = hubEnvSchema.safeParse(source);
  if (!parsed.success) {
    const found = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`expected valid hub environment variables, found ${found}`);
  }
  return parsed.data;
}
