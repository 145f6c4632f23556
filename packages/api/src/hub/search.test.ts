import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { adapters, createDb, type DbHandle } from "@lowrank/db";
import { insertTestOwnerAndBase, migratedPgliteDir } from "@lowrank/db/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { searchAdapters, searchSorts } from "./search.js";

const WORDS = ["sentiment", "translation", "chat", "poetry", "legal", "reviews"];

describe("searchAdapters on PGlite", () => {
  let handle: DbHandle;
  let dir: string;
  beforeAll(async () => {
    dir = await migratedPgliteDir();
    handle = await createDb({ dataDir: dir });
    const { userId, baseId, baseDigest } = await insertTestOwnerAndBase(handle.db);
    const rows = Array.from({ length: 40 }, (_, i) => {
      const tags = [WORDS[i % 6]!, WORDS[(i * 5) % 6]!];
      return {
        owner: `u${i % 4}`,
        name: `${WORDS[i % 6]}-${i}`,
        ownerId: userId,
        baseId,
        baseModel: i % 2 ? "gpt2" : "bert",
        baseDigest,
        description: `${WORDS[(i * 7) % 6]} ${WORDS[(i * 3) % 6]} adapter number ${i}`,
        tags,
        tagText: tags.join(" "),
        downloads: (i * 37) % 11,
        likes: (i * 13) % 5,
        latestVersionId: randomUUID(),
        latestRank: 2 ** (i % 4),
        latestFormat: i % 5 ? "peft" : "gguf",
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 7)),
      };
    });
    await handle.db.insert(adapters).values(rows);
  });
  afterAll(async () => {
    await handle?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ranks name matches above card-only matches and applies every filter", async () => {
    const r = await searchAdapters(handle.db, { q: "poetry", limit: 100 });
    expect(r.items.length).toBeGreaterThan(0);
    expect(r.items[0]?.name).toMatch(/^poetry-/);
    const filtered = await searchAdapters(handle.db, {
      base: "gpt2",
      format: "gguf",
      minRank: 2,
      maxRank: 4,
      tags: ["chat"],
      limit: 100,
    });
    for (const i of filtered.items) {
      expect(i).toMatchObject({ baseModel: "gpt2", format: "gguf" });
      expect(i.rank).toBeGreaterThanOrEqual(2);
      expect(i.tags).toContain("chat");
    }
  });

  it("pages with cursors through exactly the rows of one big page, in the same order, for every sort (ties included)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...searchSorts),
        fc.option(fc.constantFrom(...WORDS), { nil: undefined }),
        fc.integer({ min: 1, max: 7 }),
        async (sort, q, limit) => {
          if (sort === "relevance" && !q) return;
          const all = (await searchAdapters(handle.db, { q, sort, limit: 500 })).items.map((i) => i.id);
          const paged: string[] = [];
          let cursor: string | undefined;
          for (let n = 0; n < 100; n++) {
            const page = await searchAdapters(handle.db, { q, sort, limit, cursor });
            paged.push(...page.items.map((i) => i.id));
            if (!page.nextCursor) break;
            cursor = page.nextCursor;
          }
          expect(paged).toEqual(all);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("refuses a forged cursor and relevance without a query with BAD_REQUEST", async () => {
    await expect(searchAdapters(handle.db, { cursor: "bm9wZQ" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(searchAdapters(handle.db, { sort: "relevance" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
