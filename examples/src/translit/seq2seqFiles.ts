import { encodeFromFloat32, serializeSafetensors } from "@lowrank/formats";
import { BOS, EOS, PAD, type Seq2Seq } from "../lib/Seq2Seq.js";

/** Tokens 0-2 of the vocabulary in `config.json` (ids of PAD, BOS, EOS in the recipe). */
export const SPECIAL_TOKENS = ["<pad>", "<s>", "</s>"] as const;

/**
 * `config.json` of the runtime's `CharSeq2Seq` for a trained recipe model: the architecture, the
 * sizes and the character vocabulary (`vocab[id]`, ids 0-2 special).
 */
export function seq2seqConfigJson(model: Seq2Seq, vocab: ReadonlyMap<string, number>): Record<string, unknown> {
  const { config } = model;
  const chars = new Array<string>(config.vocab);
  SPECIAL_TOKENS.forEach((t, i) => {
    chars[i] = t;
  });
  for (const [c, id] of vocab) chars[id] = c;
  if (chars.some((c) => c === undefined)) throw new Error(`vocab: expected ids 3..${config.vocab - 1}, found gaps`);
  return {
    architectures: ["CharSeq2Seq"],
    model_type: "char_seq2seq",
    d_model: config.dim,
    ffn_dim: config.ffn,
    encoder_layers: config.encoderLayers,
    decoder_layers: config.decoderLayers,
    max_source_length: config.srcLen,
    max_target_length: config.tgtLen,
    layer_norm_eps: 1e-5,
    pad_token_id: PAD,
    bos_token_id: BOS,
    eos_token_id: EOS,
    vocab_size: config.vocab,
    vocab: chars,
  };
}

/**
 * The recipe's weight names in tfjs-layers' naming, so a safetensors header says what each tensor is:
 * linear modules `<module>.kernel` [in, out] + `.bias`, embedding tables `<name>.embeddings`, layer
 * norms `<name>.gamma` / `.beta`. Only the `.kernel` tensors are linear modules (what a LoRA adapts).
 */
export function seq2seqTensorName(model: Seq2Seq, name: string): string {
  const dot = name.lastIndexOf(".");
  const owner = name.slice(0, dot);
  const leaf = name.slice(dot + 1);
  if (model.linearModules().has(owner)) return leaf === "weight" ? `${owner}.kernel` : name;
  if (owner.startsWith("embed_")) return `${owner}.embeddings`;
  return `${owner}.${leaf === "weight" ? "gamma" : "beta"}`;
}

/** `model.safetensors` bytes of a recipe model (F32, tfjs-layers names). */
export function seq2seqSafetensors(model: Seq2Seq): Uint8Array {
  const tensors = new Map(
    [...model.namedVariables()].map(([k, v]) => [
      seq2seqTensorName(model, k),
      { dtype: "F32" as const, shape: v.shape, data: encodeFromFloat32("F32", v.dataSync() as Float32Array) },
    ]),
  );
  return serializeSafetensors(tensors, { format: "pt" });
}
