import type { BaseManifest } from "@lowrank/formats";
import type { Metadata } from "next";
import { notFound } from "next/navigation.js";
import { AdapterList } from "../../../components/AdapterList.js";
import { formatBytes } from "../../../components/format.js";
import { getCaller } from "../../../server/caller.js";

export const dynamic = "force-dynamic";

type Params = { name: string[] };

const baseName = (p: Params) => p.name.map(decodeURIComponent).join("/");

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  return { title: baseName(await params) };
}

/** Config keys worth a row on the page when present (GPT-2 and BERT spellings). */
const CONFIG_KEYS = [
  "model_type",
  "n_layer",
  "num_hidden_layers",
  "n_embd",
  "hidden_size",
  "n_head",
  "num_attention_heads",
  "vocab_size",
  "n_positions",
  "max_position_embeddings",
];

export default async function BasePage({ params }: { params: Promise<Params> }) {
  const name = baseName(await params);
  const caller = await getCaller();
  const base = await caller.bases.get({ name }).catch(() => notFound());
  const tree = await caller.search({ base: name, sort: "downloads", limit: 100 });
  const manifest = base.manifest as unknown as BaseManifest;
  const modules = Object.entries(manifest.modules ?? {});
  const layouts = new Map<string, number>();
  for (const [, m] of modules) layouts.set(m.layout, (layouts.get(m.layout) ?? 0) + 1);
  const weightBytes = base.weightFiles.reduce((n: number, f: { size: number }) => n + f.size, 0);
  return (
    <main className="wide">
      <p className="crumbs">Base model</p>
      <h1>{base.name}</h1>
      {base.description ? <p className="lede">{base.description}</p> : null}
      <div className="adapter-grid">
        <section className="panel" aria-labelledby="arch-heading">
          <h2 id="arch-heading">Architecture</h2>
          <dl>
            <dt>Architecture</dt>
            <dd>{base.architecture}</dd>
            <dt>License</dt>
            <dd>{base.license ?? "not stated"}</dd>
            {CONFIG_KEYS.filter((k) => base.config[k] !== undefined && base.config[k] !== null).map((k) => (
              <div key={k} className="row">
                <dt>{k}</dt>
                <dd>{String(base.config[k])}</dd>
              </div>
            ))}
            <dt>Weights on this hub</dt>
            <dd>{base.weightFiles.length > 0 ? formatBytes(weightBytes) : "none (registered by config)"}</dd>
          </dl>
        </section>
        <section className="panel" aria-labelledby="manifest-heading">
          <h2 id="manifest-heading">Manifest</h2>
          <dl>
            <dt>Digest</dt>
            <dd>
              <code className="digest">{base.manifestDigest}</code>
            </dd>
            <dt>Modules</dt>
            <dd>
              {modules.length} ({[...layouts].map(([l, n]) => `${n} ${l}`).join(", ")})
            </dd>
          </dl>
          <details>
            <summary>Every module adapters may target</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">Module</th>
                  <th scope="col">Layout</th>
                  <th scope="col">In → out</th>
                </tr>
              </thead>
              <tbody>
                {modules.map(([n, m]) => (
                  <tr key={n}>
                    <td>
                      <code>{n}</code>
                    </td>
                    <td>
                      {m.layout}
                      {m.tiedTo ? ` (tied to ${m.tiedTo})` : ""}
                    </td>
                    <td>
                      {m.inFeatures} → {m.outFeatures}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </section>
      </div>
      <section aria-labelledby="tree-heading">
        <h2 id="tree-heading">Adapters for {base.name}</h2>
        <p className="muted">
          {tree.items.length} adapter{tree.items.length === 1 ? "" : "s"} checked against this manifest.
        </p>
        <AdapterList items={tree.items} empty="No adapter has been published for this base yet." />
      </section>
    </main>
  );
}
