import { RuntimeError } from "../backend/errors.js";
import { parseBertConfig } from "./Bert.js";
import { parseGpt2Config } from "./Gpt2.js";
import { type BaseManifest, buildManifest, type ManifestModule } from "./manifest.js";

const BERT_HEADS = ["BertLMHeadModel", "BertForMaskedLM", "BertForPreTraining"];

function linear(fin: number, fout: number, layout: "conv1d" | "linear", tiedTo?: string): ManifestModule {
  return {
    shape: layout === "conv1d" ? [fin, fout] : [fout, fin],
    layout,
    inFeatures: fin,
    outFeatures: fout,
    ...(tiedTo ? { tiedTo } : {}),
  };
}

function embedding(rows: number, cols: number): ManifestModule {
  return { shape: [rows, cols], layout: "embedding", inFeatures: rows, outFeatures: cols };
}

/**
 * The base manifest of a GPT-2 or BERT from `config.json` alone (no weights): the same modules,
 * shapes and digest as the loaded model's `manifest()`, so an adapter for `gpt2` (768 wide, 12 layers)
 * can be checked without downloading the base. The head follows `architectures` (GPT2LMHeadModel, BertLMHeadModel, ...).
 */
export function manifestFromConfig(config: Readonly<Record<string, unknown>>): BaseManifest {
  const archs = Array.isArray(config.architectures) ? (config.architectures as unknown[]) : [];
  const modules: Record<string, ManifestModule> = {};
  if (config.model_type === "gpt2") {
    const hp = parseGpt2Config(config);
    const head = archs.includes("GPT2LMHeadModel");
    const p = head ? "transformer." : "";
    const d = hp.nEmbd;
    for (let i = 0; i < hp.nLayer; i++) {
      modules[`${p}h.${i}.attn.c_attn`] = linear(d, 3 * d, "conv1d");
      modules[`${p}h.${i}.attn.c_proj`] = linear(d, d, "conv1d");
      modules[`${p}h.${i}.mlp.c_fc`] = linear(d, hp.nInner, "conv1d");
      modules[`${p}h.${i}.mlp.c_proj`] = linear(hp.nInner, d, "conv1d");
    }
    modules[`${p}wte`] = embedding(hp.vocabSize, d);
    modules[`${p}wpe`] = embedding(hp.nPositions, d);
    if (head) modules.lm_head = linear(d, hp.vocabSize, "linear", `${p}wte`);
    return buildManifest(head ? "GPT2LMHeadModel" : "GPT2Model", "gpt2", modules);
  }
  if (config.model_type === "bert") {
    const hp = parseBertConfig(config);
    const headName = archs.find((a) => BERT_HEADS.includes(a as string)) as string | undefined;
    const p = headName ? "bert." : "";
    const d = hp.hiddenSize;
    for (let i = 0; i < hp.numLayers; i++) {
      const q = `${p}encoder.layer.${i}.`;
      for (const m of ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"])
        modules[q + m] = linear(d, d, "linear");
      modules[`${q}intermediate.dense`] = linear(d, hp.intermediateSize, "linear");
      modules[`${q}output.dense`] = linear(hp.intermediateSize, d, "linear");
    }
    modules[`${p}embeddings.word_embeddings`] = embedding(hp.vocabSize, d);
    modules[`${p}embeddings.position_embeddings`] = embedding(hp.maxPositions, d);
    modules[`${p}embeddings.token_type_embeddings`] = embedding(hp.typeVocabSize, d);
    if (headName) {
      modules["cls.predictions.transform.dense"] = linear(d, d, "linear");
      modules["cls.predictions.decoder"] = linear(d, hp.vocabSize, "linear", `${p}embeddings.word_embeddings`);
    }
    return buildManifest(headName ?? "BertModel", "bert", modules);
  }
  throw new RuntimeError(
    "ModelLoadFailed",
    `config.json: expected model_type 'gpt2' or 'bert', found ${JSON.stringify(config.model_type ?? null)}`,
  );
}
