import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { searchAdapters } from "@lowrank/api/hub";
import { adapters, bases, createDb, type DbHandle, migrate, sql, user } from "@lowrank/db";
import { migratedPgliteDir } from "@lowrank/db/testing";
import { postgresMissingReason, startPostgres } from "@lowrank/test-services/postgres";
import type { BenchValue } from "../harness.js";
import { defineSuite } from "../harness.js";

// Hub search latency: 10,000 adapters, the same mixed query list on PGlite and on PostgreSQL.
const ADAPTERS = 10_000;
const QUERIES = 200;
const WORDS = [
  "sentiment",
  "translation",
  "chat",
  "code",
  "summarize",
  "poetry",
  "legal",
  "medical",
  "finance",
  "tigrinya",
  "serbian",
  "uzbek",
  "mnist",
  "digits",
  "rotated",
  "inverted",
  "reviews",
  "movies",
  "yelp",
  "imdb",
  "dialogue",
  "instruct",
  "math",
  "reasoning",
  "story",
  "french",
  "german",
  "spanish",
  "japanese",
  "style",
  "anime",
  "photo",
];
const BASES = [
  "gpt2",
  "gpt2-medium",
  "distilgpt2",
  "bert-base",
  "llama-2-7b",
  "mistral-7b",
  "qwen2-0.5b",
  "dialogpt-small",
];
const TASKS = ["text-generation", "text-classification", "translation", "token-classification"];
const LICENSES = ["mit", "apache-2.0", "cc-by-4.0", "openrail"];

function rng(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

async function seed(handle: DbHandle): Promise<void> {
  const { db } = handle;
  await db.insert(user).values({ id: "bench", name: "bench", email: "bench@example.com", username: "bench" });
  const baseIds = new Map<string, string>();
  for (const name of BASES) {
    const [row] = await db
      .insert(bases)
      .values({ name, architecture: "x", modelType: "x", config: {}, manifest: {}, manifestDigest: "0".repeat(64) })
      .returning({ id: bases.id });
    baseIds.set(name, row!.id);
  }
  const r = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  for (let start = 0; start < ADAPTERS; start += 1000) {
    const rows = [];
    for (let i = start; i < Math.min(ADAPTERS, start + 1000); i++) {
      const words = [pick(WORDS), pick(WORDS), pick(WORDS)];
      const tags = [...new Set([pick(WORDS), pick(WORDS), "lora"])];
      const base = pick(BASES);
      rows.push({
        owner: `user${i % 500}`,
        name: `${words[0]}-${words[1]}-${i}`,
        ownerId: "bench",
        baseId: baseIds.get(base)!,
        baseModel: base,
        baseDigest: "0".repeat(64),
        description: `A ${words.join(" ")} adapter for ${base}.`,
        card: `# ${words[0]}\n\nTrained on ${words[2]} data with rank ${2 ** (1 + (i % 6))}. ${pick(WORDS)} ${pick(WORDS)}.`,
        tags,
        tagText: tags.join(" "),
        task: pick(TASKS),
        license: pick(LICENSES),
        downloads: Math.floor(r() * 100_000),
        likes: Math.floor(r() * 1000),
        latestVersionId: randomUUID(),
        latestRank: 2 ** (1 + (i % 6)),
        latestFormat: i % 10 === 0 ? "gguf" : "peft",
      });
    }
    await db.insert(adapters).values(rows);
  }
  await handle.db.execute(sql`analyze`);
}

/** The query mix: words, phrases, filters, sorts, a second page. */
function queries(): Parameters<typeof searchAdapters>[1][] {
  const r = rng(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const out: Parameters<typeof searchAdapters>[1][] = [];
  for (let i = 0; i < QUERIES; i++) {
    switch (i % 5) {
      case 0:
        out.push({ q: pick(WORDS) });
        break;
      case 1:
        out.push({ q: `${pick(WORDS)} ${pick(WORDS)}`, base: pick(BASES) });
        break;
      case 2:
        out.push({ base: pick(BASES), sort: "downloads" });
        break;
      case 3:
        out.push({ q: `"${pick(WORDS)}" -${pick(WORDS)}`, minRank: 4, maxRank: 16, license: pick(LICENSES) });
        break;
      default:
        out.push({ tags: [pick(WORDS)], sort: "likes", task: pick(TASKS) });
    }
  }
  return out;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] as number;
};

async function measure(handle: DbHandle): Promise<{ p50: number; p95: number; pageTwoP95: number }> {
  const list = queries();
  for (const q of list.slice(0, 20)) await searchAdapters(handle.db, q); // warm caches
  const times: number[] = [];
  const pageTwo: number[] = [];
  for (const q of list) {
    const t0 = performance.now();
    const first = await searchAdapters(handle.db, q);
    times.push(performance.now() - t0);
    if (first.nextCursor) {
      const t1 = performance.now();
      await searchAdapters(handle.db, { ...q, cursor: first.nextCursor });
      pageTwo.push(performance.now() - t1);
    }
  }
  return { p50: quantile(times, 0.5), p95: quantile(times, 0.95), pageTwoP95: quantile(pageTwo, 0.95) };
}

export default defineSuite({
  name: "hub",
  groups: async () => [
    {
      name: `search over ${ADAPTERS.toLocaleString("en")} adapters (${QUERIES} mixed queries)`,
      goal: "p95 < 50 ms on PGlite",
      values: async () => {
        const out: BenchValue[] = [];
        const dir = await migratedPgliteDir();
        const pglite = await createDb({ dataDir: dir });
        let lite: Awaited<ReturnType<typeof measure>>;
        try {
          await seed(pglite);
          lite = await measure(pglite);
        } finally {
          await pglite.close();
          rmSync(dir, { recursive: true, force: true });
        }
        out.push(
          { name: "PGlite p50", value: lite.p50, unit: "ms" },
          { name: "PGlite p95", value: lite.p95, unit: "ms" },
          { name: "PGlite p95, second page", value: lite.pageTwoP95, unit: "ms" },
        );
        const missing = postgresMissingReason();
        if (missing) {
          process.stderr.write(`bench hub: PostgreSQL skipped: ${missing}\n`);
          return out;
        }
        const server = await startPostgres();
        const pg = await createDb({ url: server.url });
        try {
          await migrate(pg.db);
          await seed(pg);
          const real = await measure(pg);
          out.push(
            { name: "PostgreSQL p50", value: real.p50, unit: "ms", reference: { name: "PGlite p50", value: lite.p50 } },
            { name: "PostgreSQL p95", value: real.p95, unit: "ms", reference: { name: "PGlite p95", value: lite.p95 } },
            { name: "PostgreSQL p95, second page", value: real.pageTwoP95, unit: "ms" },
          );
        } finally {
          await pg.close();
          await server.stop();
        }
        return out;
      },
    },
  ],
});
