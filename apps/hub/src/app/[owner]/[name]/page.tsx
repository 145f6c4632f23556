import type { Metadata } from "next";
import { headers } from "next/headers.js";
import { notFound } from "next/navigation.js";
import { compactNumber, formatBytes, isoDay } from "../../../components/format.js";
import { LikeButton } from "../../../components/LikeButton.js";
import { Link } from "../../../components/Link.js";
import { ModelCard } from "../../../components/ModelCard.js";
import { Snippets } from "../../../components/Snippets.js";
import { SpectrumPlot } from "../../../components/SpectrumPlot.js";
import { readAdapterFiles } from "../../../server/adapterFiles.js";
import { getCaller, getSession } from "../../../server/caller.js";

export const dynamic = "force-dynamic";

type Params = { owner: string; name: string };
type Search = Record<string, string | string[] | undefined>;

async function load(params: Params, search: Search) {
  const caller = await getCaller();
  const version = typeof search.version === "string" ? search.version : undefined;
  return caller.adapters.get({ ...params, version }).catch((error: { code?: string }) => {
    if (error.code === "NOT_FOUND" || error.code === "BAD_REQUEST") notFound();
    throw error;
  });
}

export async function generateMetadata({ params }: { params: Promise<Params> }): Promise<Metadata> {
  const { owner, name } = await params;
  return { title: `${owner}/${name}` };
}

export default async function AdapterPage({
  params,
  searchParams,
}: {
  params: Promise<Params>;
  searchParams: Promise<Search>;
}) {
  const p = await params;
  const data = await load(p, await searchParams);
  const session = await getSession();
  const { adapter, version, files, versions } = data;
  const repo = `${adapter.owner}/${adapter.name}`;
  const { config, tensors, problem } = await readAdapterFiles(files);
  const h = await headers();
  const hubUrl = `${h.get("x-forwarded-proto") ?? "http"}://${h.get("host") ?? "localhost:3000"}`;
  const totalParams = tensors.reduce((n, t) => n + t.params, 0);
  return (
    <main className="wide">
      <p className="crumbs">
        <Link href={`/search?q=${encodeURIComponent(adapter.owner)}`}>{adapter.owner}</Link> /
      </p>
      <h1>{repo}</h1>
      <p className="meta">
        <span>
          adapter for <Link href={`/bases/${adapter.baseModel}`}>{adapter.baseModel}</Link>
        </span>
        {adapter.task ? <span>{adapter.task}</span> : null}
        {adapter.license ? <span>license {adapter.license}</span> : null}
        <span>{compactNumber(adapter.downloads)} downloads</span>
        <LikeButton
          owner={adapter.owner}
          name={adapter.name}
          liked={data.liked}
          likes={adapter.likes}
          signedIn={session !== null}
        />
      </p>
      {adapter.tags.length > 0 ? (
        <ul className="tags" aria-label="Tags">
          {adapter.tags.map((t) => (
            <li key={t}>
              <Link href={`/search?tags=${encodeURIComponent(t)}`}>{t}</Link>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="adapter-grid">
        <article aria-labelledby="card-heading" className="panel">
          <h2 id="card-heading">Model card</h2>
          <ModelCard markdown={adapter.card} />
        </article>
        <aside className="panel" aria-labelledby="version-heading">
          <h2 id="version-heading">Version {version.version}</h2>
          <dl>
            <dt>Digest</dt>
            <dd>
              <code className="digest">{version.digest}</code>
            </dd>
            <dt>Rank</dt>
            <dd>
              r={version.rank}, alpha={version.alpha}
            </dd>
            <dt>Targets</dt>
            <dd>{version.targetModules.join(", ")}</dd>
            <dt>Format</dt>
            <dd>
              {version.format}, {version.dtype}
            </dd>
            <dt>Size</dt>
            <dd>{formatBytes(version.sizeBytes)}</dd>
            <dt>Published</dt>
            <dd>
              <time dateTime={new Date(version.createdAt).toISOString()}>{isoDay(version.createdAt)}</time>
            </dd>
          </dl>
          <h3>Files</h3>
          <ul className="files">
            {files.map((f) => (
              <li key={f.path}>
                <a
                  href={`/${repo}/resolve/${encodeURIComponent(version.version)}/${f.path}`}
                  download={f.path.split("/").pop()}
                  data-sha256={f.sha256}
                >
                  Download {f.path}
                </a>{" "}
                <span className="muted">
                  {formatBytes(f.size)} · sha256 <code title={f.sha256}>{f.sha256.slice(0, 12)}…</code>
                </span>
              </li>
            ))}
          </ul>
          <p>
            <Link
              href={`/playground?base=${encodeURIComponent(adapter.baseModel)}&adapter=${encodeURIComponent(repo)}`}
            >
              Try it in the playground
            </Link>
          </p>
        </aside>
      </div>
      <section aria-labelledby="use-heading" className="panel">
        <h2 id="use-heading">Use this adapter</h2>
        <Snippets hub={hubUrl} repo={repo} version={version.version} />
      </section>
      <section aria-labelledby="sv-heading" className="panel">
        <h2 id="sv-heading">Singular values</h2>
        <SpectrumPlot spectrum={version.spectrum} />
      </section>
      <section aria-labelledby="tensors-heading" className="panel">
        <h2 id="tensors-heading">Tensors</h2>
        {problem ? (
          <p role="alert" className="error">
            {problem}
          </p>
        ) : null}
        <table className="tensors">
          <caption>
            {tensors.length} tensors, {totalParams.toLocaleString("en")} parameters
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Shape</th>
              <th scope="col">Dtype</th>
              <th scope="col">Parameters</th>
            </tr>
          </thead>
          <tbody>
            {tensors.map((t) => (
              <tr key={t.name}>
                <td>
                  <code>{t.name}</code>
                </td>
                <td>[{t.shape.join(", ")}]</td>
                <td>{t.dtype}</td>
                <td>{t.params.toLocaleString("en")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="config-heading" className="panel">
        <h2 id="config-heading">Config</h2>
        {config ? (
          <pre>
            <code>{config}</code>
          </pre>
        ) : (
          <p className="muted">No adapter_config.json.</p>
        )}
      </section>
      <section aria-labelledby="versions-heading" className="panel">
        <h2 id="versions-heading">Versions</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Digest</th>
              <th scope="col">Rank</th>
              <th scope="col">Format</th>
              <th scope="col">Published</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.digest} aria-current={v.version === version.version ? "true" : undefined}>
                <td>
                  <Link href={`/${repo}?version=${encodeURIComponent(v.version)}`}>{v.version}</Link>
                </td>
                <td>
                  <code className="digest">{v.digest}</code>
                </td>
                <td>{v.rank}</td>
                <td>{v.format}</td>
                <td>{isoDay(v.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
