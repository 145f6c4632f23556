import { z } from "zod";

/** `input` of a transliteration base's registered config (hub.json's `base.input`). */
const translitInputSchema = z.object({
  kind: z.literal("transliteration"),
  examples: z.array(z.string().min(1).max(64)).max(16).default([]),
});

/** The transliteration input block of a base's config, or null when the base takes another input. */
export function translitInput(config: unknown): z.infer<typeof translitInputSchema> | null {
  const input = (config as { input?: unknown } | null)?.input;
  const r = translitInputSchema.safeParse(input);
  return r.success ? r.data : null;
}
