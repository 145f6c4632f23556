import { CopyButton } from "./CopyButton.js";

/** Copy-paste ways to fetch this adapter: the lowrank CLI, the SDK, and Hugging Face's clients pointed at this hub. */
export function Snippets({ hub, repo, version }: { hub: string; repo: string; version: string }) {
  const snippets = [
    {
      id: "cli",
      title: "CLI",
      code: `lowrank pull ${repo}@${version} --hub ${hub} --out ./${repo.split("/")[1]}`,
    },
    {
      id: "sdk",
      title: "SDK (TypeScript)",
      code: `import { downloadFile } from "@huggingface/hub";
import { readPeftAdapter } from "@lowrank/formats";

const hubUrl = "${hub}";
const files: Record<string, Uint8Array> = {};
for (const path of ["adapter_config.json", "adapter_model.safetensors"]) {
  const blob = await downloadFile({ repo: "${repo}", revision: "${version}", path, hubUrl });
  files[path] = new Uint8Array(await blob!.arrayBuffer());
}
const { adapter } = readPeftAdapter(files); // checked, PEFT layout, ready for @lowrank/runtime`,
    },
    {
      id: "python",
      title: "Hugging Face (Python)",
      code: `# HF_ENDPOINT=${hub}
from huggingface_hub import snapshot_download
path = snapshot_download("${repo}", revision="${version}", endpoint="${hub}")

from peft import PeftModel  # then: PeftModel.from_pretrained(base, path)`,
    },
  ];
  return (
    <div className="snippets">
      {snippets.map((s) => (
        <div key={s.id} className="snippet">
          <h3 id={`snippet-${s.id}`}>{s.title}</h3>
          <pre>
            <code>{s.code}</code>
          </pre>
          <CopyButton text={s.code} label={`Copy ${s.title} snippet`} />
        </div>
      ))}
    </div>
  );
}
