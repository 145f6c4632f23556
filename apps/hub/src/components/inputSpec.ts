import { type HubInput, hubInputSchema } from "@lowrank/api/hub-input";
import { DIGIT_SIDE } from "@lowrank/examples/features";

/**
 * How the generic playground feeds a base: the `input` block of the base's registered config (seeded
 * from examples/artifacts/<task>/hub.json, checked by the hub's one schema, `hubInputSchema`). Without
 * a valid one, a base with a tokenizer takes a prompt and any other takes token ids.
 */
export type InputSpec = Exclude<HubInput, { kind: "transliteration" }>;

/** Which playground a base opens: the transliteration page, the generic one with its input, or none (why). */
export type PlaygroundChoice =
  | { page: "transliteration"; examples: string[] }
  | { page: "generic"; input: InputSpec }
  | { page: "none"; reason: string };

/**
 * The playground for a base's config: a `CharSeq2Seq` base (`model_type: "char_seq2seq"`, with or
 * without an input block) or a `transliteration` block opens the transliteration page; an image block
 * the canvas only when it is 28x28 (the canvas draws MNIST-style digits); anything else, or a missing
 * or malformed block, the generic page with a prompt.
 */
export function playgroundFor(config: Record<string, unknown> | null | undefined): PlaygroundChoice {
  const parsed = hubInputSchema.safeParse(config?.input);
  const input = parsed.success ? parsed.data : undefined;
  if (input?.kind === "transliteration") return { page: "transliteration", examples: input.examples };
  if (config?.model_type === "char_seq2seq") return { page: "transliteration", examples: [] };
  if (input?.kind === "image" && (input.width !== DIGIT_SIDE || input.height !== DIGIT_SIDE))
    return {
      page: "none",
      reason: `This base takes ${input.width}x${input.height} images; the playground's canvas draws ${DIGIT_SIDE}x${DIGIT_SIDE} digits only. Run it through the inference API (inference.run) instead.`,
    };
  return { page: "generic", input: input ?? { kind: "text" } };
}
