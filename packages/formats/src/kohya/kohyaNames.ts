/**
 * Known identifiers that contain underscores, so a kohya name (dots replaced by underscores) can be
 * split back into a module path when no list of the base's module names is given.
 */
const MULTI_WORD = [
  "self_attn",
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "out_proj",
  "text_model",
  "vision_model",
  "final_layer_norm",
  "down_blocks",
  "up_blocks",
  "mid_block",
  "transformer_blocks",
  "proj_in",
  "proj_out",
  "to_q",
  "to_k",
  "to_v",
  "to_out",
  "time_embedding",
  "linear_1",
  "linear_2",
  "time_emb_proj",
  "conv_shortcut",
  "conv_in",
  "conv_out",
  "conv1",
  "conv2",
  "gate_proj",
  "up_proj",
  "down_proj",
  "embed_tokens",
  "lm_head",
  "c_attn",
  "c_proj",
  "c_fc",
  "add_embedding",
  "single_transformer_blocks",
  "attn_out",
  "proj_mlp",
  "norm_out",
  "context_embedder",
  "x_embedder",
  "add_q_proj",
  "add_k_proj",
  "add_v_proj",
  "to_add_out",
  "ff_context",
  "word_embeddings",
  "position_embeddings",
  "token_type_embeddings",
];

const BY_TOKENS = new Map<string, string>(MULTI_WORD.map((w) => [w, w]));
const MAX_TOKENS = Math.max(...MULTI_WORD.map((w) => w.split("_").length));

/**
 * Splits `text_model_encoder_layers_0_self_attn_q_proj` into `text_model.encoder.layers.0.self_attn.q_proj`
 * using the known multi-word identifiers (longest match first). A heuristic: names with other
 * underscores come out wrong, which is why a list of module names is the reliable way.
 */
export function splitKohyaName(flat: string): string {
  const tokens = flat.split("_");
  const parts: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    let matched = 1;
    for (let n = Math.min(MAX_TOKENS, tokens.length - i); n > 1; n--) {
      if (BY_TOKENS.has(tokens.slice(i, i + n).join("_"))) {
        matched = n;
        break;
      }
    }
    parts.push(tokens.slice(i, i + matched).join("_"));
    i += matched;
  }
  return parts.join(".");
}

/** The kohya form of a module name: dots become underscores. */
export function kohyaFlatName(module: string): string {
  return module.replace(/\./g, "_");
}
