import { Tokenizer } from "@huggingface/tokenizers";
import { RuntimeError } from "../backend/errors.js";

/** Text to token ids and back, as a Hugging Face tokenizer folder defines it. */
export interface TextTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The end-of-sequence id from tokenizer_config.json (`eos_token`), when it names a known token. */
  readonly eosTokenId: number | undefined;
  /** tokenizer_config.json's `chat_template` (Jinja), with the special tokens it may name. */
  readonly chatTemplate?: string;
  readonly bosToken?: string;
  readonly eosToken?: string;
  readonly vocabSize: number;
}

type Json = Record<string, unknown>;

function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as Json).content === "string")
    return (v as Json).content as string;
  return undefined;
}

/** Wraps `@huggingface/tokenizers` over a parsed `tokenizer.json` and `tokenizer_config.json`. */
export function tokenizerFromJson(tokenizerJson: Json, tokenizerConfig: Json = {}): TextTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (error) {
    throw new RuntimeError(
      "ModelLoadFailed",
      `tokenizer.json: expected a Hugging Face tokenizer, found an error (${(error as Error).message})`,
      { cause: error },
    );
  }
  const eosText = tokenText(tokenizerConfig.eos_token);
  const eosTokenId = eosText === undefined ? undefined : tok.token_to_id(eosText);
  const vocabSize = tok.get_vocab(true).size;
  return {
    encode: (text, options = {}) => tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids,
    decode: (ids, options = {}) => tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false }),
    eosTokenId,
    vocabSize,
    ...(typeof tokenizerConfig.chat_template === "string" ? { chatTemplate: tokenizerConfig.chat_template } : {}),
    ...(tokenText(tokenizerConfig.bos_token) !== undefined ? { bosToken: tokenText(tokenizerConfig.bos_token) } : {}),
    ...(eosText !== undefined ? { eosToken: eosText } : {}),
  };
}

/**
 * The `tokenizer.json` equivalent of a GPT-2 style `vocab.json` + `merges.txt` pair (byte-level BPE),
 * for folders saved without a fast tokenizer. Added tokens come from tokenizer_config.json.
 */
export function byteLevelBpeJson(vocab: Record<string, number>, mergesText: string, tokenizerConfig: Json = {}): Json {
  const merges = mergesText.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#version"));
  const added = (tokenizerConfig.added_tokens_decoder ?? {}) as Record<string, Json>;
  const prefixSpace = tokenizerConfig.add_prefix_space === true;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: Object.entries(added).map(([id, t]) => ({
      id: Number(id),
      content: t.content,
      single_word: t.single_word ?? false,
      lstrip: t.lstrip ?? false,
      rstrip: t.rstrip ?? false,
      normalized: t.normalized ?? true,
      special: t.special ?? true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: prefixSpace, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/**
 * Loads the tokenizer of a Hugging Face folder (Node only): `tokenizer.json` (+ `tokenizer_config.json`),
 * or, for GPT-2 style folders without one, `vocab.json` + `merges.txt`.
 */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const { readFile } = await import("node:fs/promises");
  const path = await import("node:path");
  const readJson = async (name: string): Promise<Json | undefined> => {
    let text: string;
    try {
      text = await readFile(path.join(dir, name), "utf8");
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as Json;
    } catch (error) {
      throw new RuntimeError(
        "ModelLoadFailed",
        `${name} in '${dir}': expected JSON, found a parse error (${(error as Error).message})`,
        { cause: error },
      );
    }
  };
  const config = (await readJson("tokenizer_config.json")) ?? {};
  const json = await readJson("tokenizer.json");
  if (json) return tokenizerFromJson(json, config);
  const vocab = await readJson("vocab.json");
  const merges = await readFile(path.join(dir, "merges.txt"), "utf8").catch(() => undefined);
  if (vocab && merges !== undefined)
    return tokenizerFromJson(byteLevelBpeJson(vocab as Record<string, number>, merges, config), config);
  throw new RuntimeError(
    "NotFound",
    `tokenizer in '${dir}': expected tokenizer.json, or vocab.json and merges.txt, found neither`,
  );
}
