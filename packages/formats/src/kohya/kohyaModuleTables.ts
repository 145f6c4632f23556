/**
 * Module names sd-scripts gives LoRA modules, as tables, so a flattened kohya name
 * (`input_blocks_4_1_transformer_blocks_0_attn1_to_q`) maps back to its module exactly:
 *
 * - SD 1.x / 2.x UNet: diffusers' `UNet2DConditionModel` names (`down_blocks.1.attentions.0...`),
 *   which sd-scripts uses for those models;
 * - SDXL UNet: the original (sgm) names of sd-scripts' `sdxl_original_unet.py` (`input_blocks.4.1...`,
 *   `middle_block.1...`, `output_blocks.2.2.conv`; ResBlocks `in_layers.2`, `emb_layers.1`,
 *   `out_layers.3`, `skip_connection`; downsamplers `op`), also used by original-format SD 1.x files;
 * - text encoders (`lora_te`, `lora_te1`, `lora_te2`): Hugging Face CLIP names
 *   (`text_model.encoder.layers.N.self_attn.q_proj`, `mlp.fc1`...).
 *
 * The tables cover every block index up to the largest model's (a superset), so one table serves
 * SD 1.x, 2.x and SDXL; a name missing from them falls back to the underscore heuristic.
 */

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const MAX_TRANSFORMER_DEPTH = 10; // SDXL's deepest SpatialTransformer

function transformer(p: string): string[] {
  const names = [`${p}.proj_in`, `${p}.proj_out`];
  for (const t of range(MAX_TRANSFORMER_DEPTH)) {
    const b = `${p}.transformer_blocks.${t}`;
    for (const attn of ["attn1", "attn2"])
      for (const m of ["to_q", "to_k", "to_v", "to_out.0"]) names.push(`${b}.${attn}.${m}`);
    names.push(`${b}.ff.net.0.proj`, `${b}.ff.net.2`);
  }
  return names;
}

function diffusersUnet(): string[] {
  const names = ["conv_in", "conv_out", "time_embedding.linear_1", "time_embedding.linear_2"];
  const resnet = (p: string) => [`${p}.conv1`, `${p}.conv2`, `${p}.time_emb_proj`, `${p}.conv_shortcut`];
  for (const i of range(4)) {
    for (const j of range(3)) {
      names.push(...resnet(`down_blocks.${i}.resnets.${j}`), ...resnet(`up_blocks.${i}.resnets.${j}`));
      names.push(...transformer(`down_blocks.${i}.attentions.${j}`), ...transformer(`up_blocks.${i}.attentions.${j}`));
    }
    names.push(`down_blocks.${i}.downsamplers.0.conv`, `up_blocks.${i}.upsamplers.0.conv`);
  }
  for (const j of range(2)) names.push(...resnet(`mid_block.resnets.${j}`));
  names.push(...transformer("mid_block.attentions.0"));
  return names;
}

function sgmUnet(): string[] {
  const names = ["time_embed.0", "time_embed.2", "label_emb.0.0", "label_emb.0.2", "out.2"];
  const layer = (p: string) => [
    p, // input_blocks.0.0 is a plain conv
    `${p}.in_layers.2`,
    `${p}.emb_layers.1`,
    `${p}.out_layers.3`,
    `${p}.skip_connection`,
    `${p}.op`,
    `${p}.conv`,
    ...transformer(p),
  ];
  for (const i of range(12))
    for (const k of range(3)) names.push(...layer(`input_blocks.${i}.${k}`), ...layer(`output_blocks.${i}.${k}`));
  for (const k of range(3)) names.push(...layer(`middle_block.${k}`));
  return names;
}

function clipTextEncoder(): string[] {
  const names: string[] = [];
  for (const l of range(32)) {
    const p = `text_model.encoder.layers.${l}`;
    names.push(
      `${p}.self_attn.q_proj`,
      `${p}.self_attn.k_proj`,
      `${p}.self_attn.v_proj`,
      `${p}.self_attn.out_proj`,
      `${p}.mlp.fc1`,
      `${p}.mlp.fc2`,
    );
  }
  return names;
}

const flat = (m: string) => m.replace(/\./g, "_");
let tables: { unet: Map<string, string>; te: Map<string, string> } | undefined;

/** The known module name whose kohya form is `flatName` under `prefix` (`lora_unet`, `lora_te1`...), if any. */
export function knownKohyaModule(prefix: string, flatName: string): string | undefined {
  tables ??= {
    unet: new Map([...diffusersUnet(), ...sgmUnet()].map((m) => [flat(m), m])),
    te: new Map(clipTextEncoder().map((m) => [flat(m), m])),
  };
  if (prefix === "lora_unet") return tables.unet.get(flatName);
  if (/^lora_te\d?$/.test(prefix)) return tables.te.get(flatName);
  return undefined;
}
