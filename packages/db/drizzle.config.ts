import { defineConfig } from "drizzle-kit";

// `pnpm --filter @lowrank/db db:generate` writes SQL migrations from src/schema.ts into migrations/.
// Generation needs no database; the app applies them at start with `migrate(db)`.
export default defineConfig({
  dialect: "postgresql",
  schema: ["./src/schema.ts", "./src/authSchema.ts"],
  out: "./migrations",
});
