import type { HfConfig } from "./manifestFromConfig.js";

/** Which class a Hugging Face config (and, when known, its checkpoint) stands for, as lowrank builds it. */
export interface ResolvedArchitecture {
  modelType: string;
  /** The class name the manifest reports (`GPT2LMHeadModel`, `BertModel`...). */
  architecture: string;
  /** The backbone prefix of module names (`transformer.`, `bert.`, `model.` or none). */
  prefix: string;
  /** Whether the language-model head is built (GPT-2 `lm_head`, BERT `cls.predictions`, Llama `lm_head`). */
  lmHead: boolean;
}

const BERT_LM_HEADS = ["BertLMHeadModel", "BertForMaskedLM", "BertForPreTraining"];
const LLAMA_FAMILY = ["llama", "mistral", "qwen2"];

function architecturesOf(config: HfConfig): string[] {
  const a = config.architectures;
  return Array.isArray(a) ? a.filter((x): x is string => typeof x === "string") : [];
}

/**
 * The one rule for which class a base is, shared by `manifestFromConfig`, `manifestFromHeader` and
 * the runtime's GPT-2 and BERT (so their digests agree). `architectures` decides when it names the
 * class; without it the checkpoint's tensor names decide when they are known (`transformer.wte.weight`
 * means GPT2LMHeadModel, `cls.predictions.bias` a BERT LM head); from a config alone it is the bare
 * backbone (`GPT2Model`, `BertModel`), which is what Hugging Face's `AutoModel` builds. BERT's pooler
 * and task heads other than the LM head are not built, so they are not part of any manifest.
 */
export function resolveArchitecture(config: HfConfig, hasTensor?: (name: string) => boolean): ResolvedArchitecture {
  const modelType = typeof config.model_type === "string" ? config.model_type : "";
  const archs = architecturesOf(config);
  if (modelType === "gpt2") {
    const lmHead =
      archs.includes("GPT2LMHeadModel") ||
      (!archs.includes("GPT2Model") && (hasTensor ? hasTensor("transformer.wte.weight") : archs.length > 0));
    return {
      modelType,
      architecture: lmHead ? "GPT2LMHeadModel" : "GPT2Model",
      prefix: lmHead ? "transformer." : "",
      lmHead,
    };
  }
  if (modelType === "bert") {
    const head = archs.find((a) => BERT_LM_HEADS.includes(a));
    const lmHead =
      head !== undefined || (!archs.includes("BertModel") && (hasTensor?.("cls.predictions.bias") ?? false));
    const other = archs.find((a) => a.startsWith("Bert") && a !== "BertModel" && !BERT_LM_HEADS.includes(a));
    const prefixed =
      lmHead ||
      (hasTensor
        ? hasTensor("bert.embeddings.word_embeddings.weight")
        : other !== undefined && !archs.includes("BertModel"));
    return {
      modelType,
      architecture: lmHead ? (head ?? "BertLMHeadModel") : (other ?? "BertModel"),
      prefix: prefixed ? "bert." : "",
      lmHead,
    };
  }
  if (LLAMA_FAMILY.includes(modelType)) {
    const architecture = archs[0] ?? "LlamaForCausalLM";
    const bare = architecture.endsWith("Model") && !architecture.includes("For");
    return { modelType, architecture, prefix: bare ? "" : "model.", lmHead: !bare };
  }
  return { modelType, architecture: archs[0] ?? (modelType || "unknown"), prefix: "", lmHead: false };
}
