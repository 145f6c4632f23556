import { adapters, adapterVersions, bases } from "@lowrank/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../src/hub/seed.js";
import { hubClient, startTestHub, type TestHub } from "../src/testing.js";

describe("demo seeding", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => t?.close());

  it("registers the demo bases and adapters on first start, and nothing more on the second", async () => {
    const first = await seedDemo(t.hub);
    expect(first.skipped).toEqual([]);
    // The fixtures' bases and adapters first; examples/artifacts' follow (test/seedArtifacts.test.ts).
    expect(first.bases.slice(0, 5)).toEqual([
      "gpt2-tiny",
      "gpt2-lmhead-tiny",
      "bert-tiniest",
      "openai-community/gpt2",
      "microsoft/DialoGPT-small",
    ]);
    expect(first.adapters.slice(0, 5)).toEqual([
      "lowrank/gpt2-tigrinya-lora",
      "lowrank/dialogpt-small-tiny-lora",
      "lowrank/gpt2-tiny-demo",
      "lowrank/gpt2-lmhead-tiny-demo",
      "lowrank/bert-tiniest-demo",
    ]);
    const counts = async () => [
      (await t.hub.database.db.select().from(bases)).length,
      (await t.hub.database.db.select().from(adapters)).length,
      (await t.hub.database.db.select().from(adapterVersions)).length,
    ];
    const before = await counts();
    const second = await seedDemo(t.hub);
    expect(second.adapters).toEqual([]);
    expect(await counts()).toEqual(before);

    const client = hubClient(t.url);
    const tigrinya = await client.search.query({ q: "tigrinya" });
    expect(tigrinya.items[0]).toMatchObject({
      owner: "lowrank",
      name: "gpt2-tigrinya-lora",
      rank: 8,
      baseModel: "openai-community/gpt2",
    });
    const forBase = await client.search.query({ base: "microsoft/DialoGPT-small" });
    expect(forBase.items.map((i) => i.name)).toEqual(["dialogpt-small-tiny-lora"]);
    // Each demo adapter says what its base does: GPT-2 generates text, the BERT backbone gives features.
    const tasks = Object.fromEntries(
      (await t.hub.database.db.select().from(adapters)).map((a) => [`${a.owner}/${a.name}`, a.task]),
    );
    expect(tasks["lowrank/gpt2-tiny-demo"]).toBe("text-generation");
    expect(tasks["lowrank/bert-tiniest-demo"]).toBe("feature-extraction");
  });
});
