import { z } from "zod";
import { RuntimeError } from "../backend/errors.js";
import { schemaProblem } from "../schema/parseWithSchema.js";

const size = z.int().min(1).max(65_536);

/** `config.json` of a `CharSeq2Seq` (as the translation recipe's export writes it). */
export const charSeq2SeqConfigSchema = z
  .object({
    model_type: z.literal("char_seq2seq"),
    d_model: size,
    ffn_dim: size,
    encoder_layers: z.int().min(0).max(64),
    decoder_layers: z.int().min(1).max(64),
    max_source_length: z.int().min(1).max(4096),
    max_target_length: z.int().min(1).max(4096),
    layer_norm_eps: z.number().positive().max(1).default(1e-5),
    pad_token_id: z.int().min(0),
    bos_token_id: z.int().min(0),
    eos_token_id: z.int().min(0),
    /** `vocab[id]`: the character (or special token) of each id. */
    vocab: z.array(z.string().min(1)).min(4).max(65_536),
  })
  .refine((c) => new Set(c.vocab).size === c.vocab.length, {
    message: "expected distinct vocab entries",
    path: ["vocab"],
  })
  .refine((c) => [c.pad_token_id, c.bos_token_id, c.eos_token_id].every((id) => id < c.vocab.length), {
    message: "expected special token ids inside the vocab",
    path: ["vocab"],
  });

export interface CharSeq2SeqConfig {
  dModel: number;
  ffnDim: number;
  encoderLayers: number;
  decoderLayers: number;
  srcLen: number;
  tgtLen: number;
  eps: number;
  padId: number;
  bosId: number;
  eosId: number;
  vocab: readonly string[];
}

/** Parses `config.json`; a bad one is `RuntimeError` `ModelLoadFailed` naming the field. */
export function parseCharSeq2SeqConfig(config: Readonly<Record<string, unknown>>): CharSeq2SeqConfig {
  const r = charSeq2SeqConfigSchema.safeParse(config);
  if (!r.success) throw new RuntimeError("ModelLoadFailed", schemaProblem(r.error, config, "config.json"));
  const c = r.data;
  return {
    dModel: c.d_model,
    ffnDim: c.ffn_dim,
    encoderLayers: c.encoder_layers,
    decoderLayers: c.decoder_layers,
    srcLen: c.max_source_length,
    tgtLen: c.max_target_length,
    eps: c.layer_norm_eps,
    padId: c.pad_token_id,
    bosId: c.bos_token_id,
    eosId: c.eos_token_id,
    vocab: c.vocab,
  };
}
