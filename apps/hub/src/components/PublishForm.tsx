"use client";

import { sha256Hex } from "@lowrank/formats";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation.js";
import { type DragEvent, type FormEvent, useMemo, useState } from "react";
import { useTRPC } from "../trpc/react.js";
import { checkAdapterFiles, type FileCheck } from "./checkAdapterFiles.js";
import { formatBytes } from "./format.js";
import { uploadFile } from "./upload.js";

export interface PublishBase {
  name: string;
  architecture: string;
  manifest: unknown;
  headCount?: number;
  headCountKv?: number;
}

/** Keep the file name only: a dropped folder `my-lora/adapter_config.json` publishes as `adapter_config.json`. */
const leaf = (path: string) => path.split("/").pop() ?? path;

async function readAll(list: Iterable<File>): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const f of list) {
    if (leaf(f.name).startsWith(".")) continue;
    out[leaf(f.name)] = new Uint8Array(await f.arrayBuffer());
  }
  return out;
}

/** Files from a drop, descending into a dropped folder (one level, as PEFT writes it). */
async function droppedFiles(e: DragEvent): Promise<File[]> {
  const files: File[] = [];
  const entries = Array.from(e.dataTransfer.items)
    .map((i) => i.webkitGetAsEntry?.())
    .filter((x): x is FileSystemEntry => Boolean(x));
  if (entries.length === 0) return Array.from(e.dataTransfer.files);
  const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((res, rej) => entry.file(res, rej));
  for (const entry of entries) {
    if (entry.isFile) files.push(await fileOf(entry as FileSystemFileEntry));
    else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      const children = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      for (const c of children) if (c.isFile) files.push(await fileOf(c as FileSystemFileEntry));
    }
  }
  return files;
}

/**
 * Publish: pick a base, drop a PEFT folder (or a GGUF / kohya file), see it checked against the base
 * in the browser, then upload with a progress bar and publish. The hub checks again on its side.
 */
export function PublishForm({ bases, username }: { bases: PublishBase[]; username: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const [baseName, setBaseName] = useState(bases[0]?.name ?? "");
  const [files, setFiles] = useState<Record<string, Uint8Array>>({});
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState("");
  const publish = useMutation(trpc.adapters.publish.mutationOptions());
  const base = bases.find((b) => b.name === baseName);
  const names = Object.keys(files).sort();
  const check: FileCheck | null = useMemo(
    () => (base && names.length > 0 ? checkAdapterFiles(files, base) : null),
    [base, files, names.length],
  );
  const total = names.reduce((n, k) => n + (files[k]?.byteLength ?? 0), 0);

  const take = async (list: Iterable<File>) => {
    setError("");
    setProgress(null);
    setFiles(await readAll(list));
  };

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!check?.ok || !base) return;
    const form = new FormData(e.currentTarget);
    setError("");
    try {
      const uploaded: { path: string; sha256: string; size: number }[] = [];
      let done = 0;
      setProgress({ loaded: 0, total });
      for (const path of names) {
        const bytes = files[path] as Uint8Array;
        const stored = await uploadFile(bytes, sha256Hex(bytes), (loaded) =>
          setProgress({ loaded: done + loaded, total }),
        );
        done += bytes.byteLength;
        uploaded.push({ path, sha256: stored.sha256, size: stored.size });
      }
      const tags = String(form.get("tags") ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      const result = await publish.mutateAsync({
        name: String(form.get("name")),
        version: String(form.get("version")),
        base: base.name,
        files: uploaded,
        description: String(form.get("description") ?? "") || undefined,
        license: String(form.get("license") ?? "") || undefined,
        tags: tags.length ? tags : undefined,
      });
      router.push(`/${result.owner}/${result.name}`);
    } catch (err) {
      setError((err as Error).message);
      setProgress(null);
    }
  }

  return (
    <form className="stack wide-form" onSubmit={submit}>
      <div className="field">
        <label htmlFor="base-select">Base model</label>
        <select id="base-select" name="base" value={baseName} onChange={(e) => setBaseName(e.target.value)}>
          {bases.map((b) => (
            <option key={b.name} value={b.name}>
              {b.name} ({b.architecture})
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="name">Name</label>
        <div>
          <span className="muted">{username}/</span>
          <input id="name" name="name" required pattern="[a-z0-9][a-z0-9._\-]{0,62}[a-z0-9]|[a-z0-9]" />
        </div>
      </div>
      <div className="field">
        <label htmlFor="version">Version</label>
        <input id="version" name="version" required defaultValue="v1" />
      </div>
      <div className="field">
        <label htmlFor="description">Description</label>
        <input id="description" name="description" maxLength={500} />
      </div>
      <div className="field">
        <label htmlFor="pub-tags">Tags (comma-separated)</label>
        <input id="pub-tags" name="tags" />
      </div>
      <div className="field">
        <label htmlFor="pub-license">License</label>
        <input id="pub-license" name="license" placeholder="mit" />
      </div>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target for mouse users; the file input inside is the keyboard way */}
      <div
        className={`dropzone${over ? " over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void droppedFiles(e).then(take);
        }}
      >
        <p>
          Drop a PEFT folder (adapter_config.json, adapter_model.safetensors, README.md) or a GGUF / kohya file here.
        </p>
        <label htmlFor="files">Or choose files</label>{" "}
        <input
          id="files"
          type="file"
          multiple
          accept=".json,.safetensors,.gguf,.md"
          onChange={(e) => void take(Array.from(e.currentTarget.files ?? []))}
        />
      </div>
      {names.length > 0 ? (
        <section aria-labelledby="check-heading" aria-live="polite">
          <h2 id="check-heading">Check against {baseName}</h2>
          <ul>
            {names.map((n) => (
              <li key={n}>
                {n} <span className="muted">{formatBytes(files[n]?.byteLength ?? 0)}</span>
              </li>
            ))}
          </ul>
          {check?.ok ? (
            <p className="ok-text" data-testid="check-ok">
              Fits {baseName}: {check.modules} modules, r={check.rank}, {check.format}.
            </p>
          ) : (
            <div role="alert" data-testid="check-failed">
              <p className="error">
                Does not fit {baseName}
                {check?.mismatches.length ? `: ${check.mismatches.length} layer(s) differ` : ""}.
              </p>
              {check?.errors.map((m) => (
                <p key={m} className="error">
                  {m}
                </p>
              ))}
              {check?.mismatches.length ? (
                <table>
                  <caption>Mismatched layers</caption>
                  <thead>
                    <tr>
                      <th scope="col">Layer</th>
                      <th scope="col">Problem</th>
                    </tr>
                  </thead>
                  <tbody>
                    {check.mismatches.map((m) => (
                      <tr key={m.module}>
                        <td>
                          <code>{m.module}</code>
                        </td>
                        <td>{m.message}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : null}
            </div>
          )}
          {check?.warnings.length ? (
            <ul className="muted">
              {check.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          ) : null}
        </section>
      ) : null}
      {progress ? (
        <div className="field">
          <label htmlFor="upload-progress">
            Uploading {formatBytes(progress.loaded)} of {formatBytes(progress.total)}
          </label>
          <progress id="upload-progress" max={progress.total || 1} value={progress.loaded} />
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="error" data-testid="publish-error">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={!check?.ok || publish.isPending || progress !== null}>
        Upload and publish
      </button>
    </form>
  );
}
