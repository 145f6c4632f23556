import type { Metadata } from "next";
import { Link } from "../../components/Link.js";
import { Playground } from "../../components/Playground.js";
import { getCaller } from "../../server/caller.js";

export const metadata: Metadata = { title: "Playground" };
export const dynamic = "force-dynamic";

const BACKENDS = ["auto", "webgpu", "wasm"] as const;

/** The default prompt a seeded text base names in its config (`input: { kind: "text", prompt }`, from hub.json). */
function promptOf(config: Record<string, unknown>): string | undefined {
  const input = config.input as { prompt?: unknown } | undefined;
  return typeof input?.prompt === "string" ? input.prompt : undefined;
}

export default async function PlaygroundPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const params = await searchParams;
  const caller = await getCaller();
  const all = await Promise.all((await caller.bases.list()).map((b) => caller.bases.get({ name: b.name })));
  const runnable = all.filter((b) => b.weightFiles.some((f: { path: string }) => f.path === "model.safetensors"));
  const wanted = typeof params.base === "string" ? params.base : undefined;
  const base =
    runnable.find((b) => b.name === wanted) ??
    runnable.find((b) => b.weightFiles.some((f: { path: string }) => f.path === "tokenizer.json")) ??
    runnable[0];
  const backend = BACKENDS.find((b) => b === params.backend) ?? "auto";
  const adapters = base ? await caller.search({ base: base.name, sort: "newest", limit: 50 }) : { items: [] };
  return (
    <main className="wide">
      <h1>Playground</h1>
      <p className="lede">
        The base loads once, in your browser. Adapters swap onto it without reloading it; each output shows beside the
        base's.
      </p>
      <nav aria-label="Bases">
        <ul className="tags">
          {runnable.map((b) => (
            <li key={b.name}>
              <Link
                href={`/playground?base=${encodeURIComponent(b.name)}`}
                aria-current={b === base ? "page" : undefined}
              >
                {b.name}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {base ? (
        <Playground
          key={`${base.name}-${backend}`}
          base={base.name}
          files={base.weightFiles.map((f: { path: string }) => f.path)}
          adapters={adapters.items.map((a) => ({ repo: `${a.owner}/${a.name}`, rank: a.rank }))}
          backend={backend}
          initialAdapter={typeof params.adapter === "string" ? params.adapter : undefined}
          defaultPrompt={
            promptOf(base.config) ??
            (base.weightFiles.some((f: { path: string }) => f.path === "tokenizer.json")
              ? "Hello, my name is"
              : "1, 2, 3")
          }
        />
      ) : (
        <p>No base on this hub has weights stored; the playground needs one.</p>
      )}
    </main>
  );
}
