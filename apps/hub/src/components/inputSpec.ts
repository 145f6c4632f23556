/**
 * How the playground feeds a base: the `input` block of the base's registered config (seeded from
 * examples/artifacts/<task>/hub.json; layout in examples/artifacts/README.md). Without one, a base
 * with a tokenizer takes a prompt and any other takes token ids.
 */
export type InputSpec =
  | { kind: "image"; width: number; height: number; classes?: string[] }
  | { kind: "hashed-text"; features: number; classes?: string[] }
  | { kind: "text"; prompt?: string; classes?: string[] };

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined;
const positive = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v > 0 && v <= 4096 ? v : undefined;

/** The input block of a base's config, checked; anything unknown or malformed is the text prompt. */
export function inputSpecOf(config: Record<string, unknown> | null | undefined): InputSpec {
  const raw = config?.input as Record<string, unknown> | undefined;
  const classes = strings(raw?.classes);
  if (raw?.kind === "image") {
    const width = positive(raw.width);
    const height = positive(raw.height);
    if (width && height && width * height <= 4096) return { kind: "image", width, height, classes };
  }
  if (raw?.kind === "hashed-text") {
    const features = positive(raw.features);
    if (features) return { kind: "hashed-text", features, classes };
  }
  return { kind: "text", prompt: typeof raw?.prompt === "string" ? raw.prompt : undefined, classes };
}
