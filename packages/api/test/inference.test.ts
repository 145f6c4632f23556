import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../src/hub/seed.js";
import { hubClient, startTestHub, type TestHub } from "../src/testing.js";

const close = (a: number[], b: number[], tol = 1e-4) =>
  a.length === b.length && a.every((x, i) => Math.abs(x - (b[i] ?? Number.NaN)) <= tol * (1 + Math.abs(x)));

// The hub runs a frozen base with adapters from its blob store through @lowrank/runtime's engine.
describe("inference in the hub process", () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
    await seedDemo(t.hub);
  });
  afterAll(async () => {
    await t?.hub.inference?.close();
    await t?.close();
  });

  it("runs the base alone, with an adapter hot-swapped per request, and with two adapters mixed by scale", async () => {
    const client = hubClient(t.url);
    const inputIds = [1, 2, 3, 4];
    const base = await client.inference.run.mutate({ base: "gpt2-lmhead-tiny", inputIds });
    const adapted = await client.inference.run.mutate({
      base: "gpt2-lmhead-tiny",
      adapters: [{ ref: "lowrank/gpt2-lmhead-tiny-demo" }],
      inputIds,
    });
    expect(base.shape).toEqual(adapted.shape);
    expect(close(base.output, adapted.output)).toBe(false);
    // Half the adapter twice is the adapter once; +1 and -1 cancel to the base.
    const halves = await client.inference.run.mutate({
      base: "gpt2-lmhead-tiny",
      adapters: [
        { ref: "lowrank/gpt2-lmhead-tiny-demo", scale: 0.5 },
        { ref: "lowrank/gpt2-lmhead-tiny-demo@v1", scale: 0.5 },
      ],
      inputIds,
    });
    expect(close(halves.output, adapted.output)).toBe(true);
    const cancel = await client.inference.run.mutate({
      base: "gpt2-lmhead-tiny",
      adapters: [
        { ref: "lowrank/gpt2-lmhead-tiny-demo", scale: 1 },
        { ref: "lowrank/gpt2-lmhead-tiny-demo@v1", scale: -1 },
      ],
      inputIds,
    });
    expect(close(cancel.output, base.output)).toBe(true);
    expect(adapted.adapters[0]?.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses an adapter of another base, a base without weights, and malformed input with typed errors", async () => {
    const client = hubClient(t.url);
    await expect(
      client.inference.run.mutate({
        base: "gpt2-lmhead-tiny",
        adapters: [{ ref: "lowrank/gpt2-tiny-demo" }],
        inputIds: [1],
      }),
    ).rejects.toMatchObject({
      data: { code: "BAD_REQUEST" },
      message: expect.stringContaining("is for base gpt2-tiny"),
    });
    await expect(client.inference.run.mutate({ base: "openai-community/gpt2", inputIds: [1] })).rejects.toMatchObject({
      data: { code: "PRECONDITION_FAILED" },
    });
    await expect(client.inference.run.mutate({ base: "gpt2-lmhead-tiny", inputIds: [] })).rejects.toMatchObject({
      data: { code: "BAD_REQUEST" },
    });
    await expect(
      client.inference.run.mutate({ base: "gpt2-lmhead-tiny", adapters: [{ ref: "lowrank/none" }], inputIds: [1] }),
    ).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
  });
});
