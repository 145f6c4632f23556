// Browser-safe (zod only): `@lowrank/api/hub-input`, shared by the seeding of examples/artifacts, the
// recipes that write hub.json and the hub's playground page.
import { z } from "zod";

const classes = z.array(z.string().min(1).max(64)).min(1).max(1000).optional();
/** The inference API takes at most 4096 input values, so no side or product goes past it. */
const size = z.int().min(1).max(4096);

/**
 * `base.input` of `examples/artifacts/<task>/hub.json`, kept in the base's registered config: which
 * input widget and preprocessing the playground uses (layout in examples/artifacts/README.md).
 */
export const hubInputSchema = z.discriminatedUnion("kind", [
  /** A drawn image, `width` x `height` grayscale values (the playground draws MNIST-style 28x28 digits). */
  z
    .object({ kind: z.literal("image"), width: size, height: size, classes })
    .refine((i) => i.width * i.height <= 4096, { message: "image: width x height must be at most 4096 values" }),
  /** A sentence featurized by `hashedFeatures` into `features` buckets. */
  z.object({
    kind: z.literal("hashed-text"),
    features: size,
    tokenizer: z.string().max(64).optional(),
    ngrams: z.array(z.int().min(1).max(8)).max(8).optional(),
    classes,
  }),
  /** A word for a `CharSeq2Seq` base, with example words for the page. */
  z.object({
    kind: z.literal("transliteration"),
    from: z.string().max(64).optional(),
    to: z.string().max(64).optional(),
    maxLength: z.int().min(1).max(64).optional(),
    examples: z.array(z.string().min(1).max(64)).max(16).default([]),
  }),
  /** A prompt (language models) or token ids; `prompt` is the page's default. */
  z.object({ kind: z.literal("text"), prompt: z.string().max(1000).optional(), classes }),
]);
export type HubInput = z.infer<typeof hubInputSchema>;
/** What a recipe writes (defaults may be left out). */
export type HubInputWritten = z.input<typeof hubInputSchema>;
