import { initBackend, loadHfModel, type Gpt2 } from "@lowrank/runtime";
import { greedyContinuation, languageModels } from "./src/languageDemo.js";
import { identifyLanguage } from "./src/lib/charBigram.js";
await initBackend({ backend: "wasm" });
const root = "artifacts/udhr-gpt2";
const g = (await loadHfModel(`${root}/base`)) as Gpt2;
const models = languageModels();
for (const p of ["Everyone has the right to", "All human beings are born free", "Article 12", "Considering", "No one shall be", "The", "1. Everyone", "Art", "Article 25\n1. "]) {
  const row = [JSON.stringify(p)];
  for (const a of [undefined, "udhr-gpt2-french", "udhr-gpt2-spanish", "udhr-gpt2-german"]) {
    const t = await greedyContinuation(g, p, a && `${root}/adapters/${a}`);
    row.push(`${identifyLanguage(t, models).best}:${JSON.stringify(t)}`);
  }
  console.log(row.join("\n   "));
}
