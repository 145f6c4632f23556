import { parseDocument, stringify } from "yaml";
import { FormatError, type Result, toResult } from "../errors.js";

/** A Hugging Face model card: optional YAML front matter (between `---` lines) and a Markdown body. */
export interface ModelCard {
  /** The front matter as data (`base_model`, `library_name`, `tags`, `license`...), or null when there is none. */
  data: Record<string, unknown> | null;
  body: string;
}

const FRONT = /^---[ \t]*\r?\n([\s\S]*?)\r?\n?---[ \t]*(?:\r?\n|$)/;

/**
 * Parses `README.md`. A card without front matter is fine (`data: null`); front matter that is not
 * valid YAML, or not a mapping, is `InvalidConfig`.
 */
export function parseModelCard(input: string | Uint8Array): ModelCard {
  const text = typeof input === "string" ? input : new TextDecoder().decode(input);
  const m = FRONT.exec(text.startsWith("\uFEFF") ? text.slice(1) : text);
  if (!m) return { data: null, body: text };
  const doc = parseDocument(m[1] as string, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new FormatError(
      "InvalidConfig",
      `README.md: expected YAML front matter, found an error (${doc.errors[0]?.message.split("\n")[0]})`,
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new FormatError(
      "InvalidConfig",
      `README.md: expected the front matter to be a mapping, found ${Array.isArray(data) ? "a list" : typeof data}`,
    );
  }
  const bodyStart = (m.index ?? 0) + m[0].length + (text.startsWith("\uFEFF") ? 1 : 0);
  return { data: data as Record<string, unknown>, body: text.slice(bodyStart) };
}

export function safeParseModelCard(input: string | Uint8Array): Result<ModelCard> {
  return toResult(() => parseModelCard(input));
}

/** Writes a card back: front matter (keys in the given order) then the body. */
export function serializeModelCard(card: ModelCard): string {
  if (!card.data) return card.body;
  return `---\n${stringify(card.data, { lineWidth: 0 })}---\n${card.body}`;
}

/**
 * The card PEFT's `save_pretrained` writes, reduced to what identifies the adapter: `base_model`,
 * `library_name: peft`, `tags` (always `lora`, plus `base_model:adapter:<base>`), and `license`
 * when given. Existing data is kept; these keys are filled in only where missing.
 */
export function peftModelCard(
  options: { baseModel?: string | null; license?: string; tags?: string[]; title?: string },
  existing?: ModelCard | null,
): ModelCard {
  const data: Record<string, unknown> = { ...(existing?.data ?? {}) };
  if (options.baseModel && data.base_model === undefined) data.base_model = options.baseModel;
  if (data.library_name === undefined) data.library_name = "peft";
  const tags = new Set<string>(Array.isArray(data.tags) ? (data.tags as unknown[]).map(String) : []);
  if (options.baseModel) tags.add(`base_model:adapter:${options.baseModel}`);
  tags.add("lora");
  for (const t of options.tags ?? []) tags.add(t);
  data.tags = [...tags];
  if (options.license && data.license === undefined) data.license = options.license;
  const body =
    existing?.body ??
    `\n# ${options.title ?? "LoRA adapter"}\n\nA LoRA adapter${options.baseModel ? ` for \`${options.baseModel}\`` : ""}, written by lowrank in PEFT's format.\n`;
  return { data, body };
}
