import type { Metadata } from "next";
import { type InputSpec, playgroundFor } from "../../components/inputSpec.js";
import { Link } from "../../components/Link.js";
import { Playground } from "../../components/Playground.js";
import { TransliterationPlayground } from "../../components/TransliterationPlayground.js";
import { getCaller } from "../../server/caller.js";

export const metadata: Metadata = { title: "Playground" };
export const dynamic = "force-dynamic";

const BACKENDS = ["auto", "webgpu", "wasm"] as const;

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
  const choice = playgroundFor(base?.config as Record<string, unknown> | undefined);
  const input: InputSpec = choice.page === "generic" ? choice.input : { kind: "text" };
  const hasTokenizer = base?.weightFiles.some((f: { path: string }) => f.path === "tokenizer.json");
  const defaultPrompt =
    input.kind === "hashed-text"
      ? "The food was great and the staff were friendly."
      : input.kind === "text" && input.prompt
        ? input.prompt
        : hasTokenizer
          ? "Hello, my name is"
          : "1, 2, 3";
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
      {base && choice.page === "none" ? (
        <p role="status" data-testid="no-playground">
          {choice.reason}
        </p>
      ) : base && choice.page === "transliteration" ? (
        <TransliterationPlayground
          key={`${base.name}-${backend}`}
          base={base.name}
          adapters={adapters.items.map((a) => ({ repo: `${a.owner}/${a.name}`, rank: a.rank }))}
          backend={backend}
          examples={choice.examples}
          initialAdapter={typeof params.adapter === "string" ? params.adapter : undefined}
        />
      ) : base ? (
        <Playground
          key={`${base.name}-${backend}`}
          base={base.name}
          files={base.weightFiles.map((f: { path: string }) => f.path)}
          adapters={adapters.items.map((a) => ({ repo: `${a.owner}/${a.name}`, rank: a.rank }))}
          backend={backend}
          initialAdapter={typeof params.adapter === "string" ? params.adapter : undefined}
          input={input}
          defaultPrompt={defaultPrompt}
        />
      ) : (
        <p>No base on this hub has weights stored; the playground needs one.</p>
      )}
    </main>
  );
}
