import { z } from "zod";

const name = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
const finite = (what: string, min = Number.NEGATIVE_INFINITY) =>
  z
    .number({ error: `expected ${what}` })
    .min(min)
    .refine(Number.isFinite, `expected ${what}`);
const int = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(min)
    .max(max);
const tokenIds = z
  .array(int("an integer token id >= 0", 0, 2 ** 31 - 1), { error: "expected an array of integer token ids" })
  .min(1, { error: "expected at least one token id" });

/** Fields every request that runs the model shares. */
const target = {
  base: name("a base id").optional(),
  adapter: name("an adapter name or digest ('__base__' for none)").optional(),
  scale: finite("a finite number").optional(),
};

export const forwardBody = z
  .strictObject({
    ...target,
    input_ids: tokenIds.optional(),
    input: z
      .array(finite("a finite number"), { error: "expected an array of numbers" })
      .min(1, { error: "expected at least one value" })
      .optional(),
    shape: z
      .array(int("a positive integer", 1), { error: "expected an array of positive integers" })
      .min(1, { error: "expected at least one dimension" })
      .optional(),
  })
  .refine((b) => (b.input_ids === undefined) !== (b.input === undefined), {
    error: "expected exactly one of input_ids (token ids) or input (numbers)",
    path: ["input_ids"],
  });

export const generateBody = z
  .strictObject({
    ...target,
    input_ids: tokenIds.optional(),
    prompt: z
      .string({ error: "expected the prompt as text" })
      .min(1, { error: "expected a non-empty prompt" })
      .max(1_000_000, { error: "expected a prompt of at most 1,000,000 characters" })
      .optional(),
    max_new_tokens: int("an integer in 0..1024", 0, 1024).optional(),
    eos_token_id: int("an integer token id >= 0", 0).optional(),
    temperature: finite("a finite number >= 0", 0).optional(),
    top_k: int("an integer >= 0", 0).optional(),
    seed: int("an integer >= 0", 0).optional(),
  })
  .refine((b) => (b.input_ids === undefined) !== (b.prompt === undefined), {
    error: "expected exactly one of input_ids (token ids) or prompt (text)",
    path: ["input_ids"],
  });

export const loadBody = z
  .strictObject({
    name: name("an adapter name").optional(),
    path: name("a folder inside the server's adapters folder").optional(),
    base: name("a base id").optional(),
  })
  .refine((b) => b.name !== undefined || b.path !== undefined, {
    error: "expected {path} or {name}",
    path: ["name"],
  });

export const unloadBody = z.strictObject({
  name: name("an adapter name or digest"),
  forget: z.boolean({ error: "expected true or false" }).optional(),
});
