import { dbEnvSchema } from "@lowrank/db";
import { z } from "zod";

/** Every environment variable the hub reads, validated once. Nothing else reads `process.env`. */
const hubEnvSchema = dbEnvSchema.extend({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
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
