"use client";

import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTRPC } from "../trpc/react.js";
import { AdapterControls } from "./AdapterControls.js";
import { BackendStatus, ServerCheck, SwapNote } from "./PlaygroundStatus.js";
import { loadAdapter } from "./playgroundModel.js";
import { PlaygroundResources } from "./playgroundResources.js";
import {
  type LoadedTranslit,
  loadTranslitBase,
  type TranslitOutput,
  transliterate,
  withAdapters,
} from "./translitModel.js";

export interface TransliterationPlaygroundProps {
  base: string;
  adapters: { repo: string; rank: number | null }[];
  backend: "auto" | "webgpu" | "wasm";
  /** Example words (`input.examples` of the base's config). */
  examples: string[];
  initialAdapter?: string;
}

function Word({ label, output, testId }: { label: string; output: TranslitOutput | null; testId: string }) {
  return (
    <section className="panel" aria-label={label}>
      <h3>{label}</h3>
      <p>
        <strong data-testid={testId} lang="und-Latn">
          {output ? output.text || "(empty)" : ""}
        </strong>
      </p>
      <p className="muted">decoded in {output ? `${output.ms.toFixed(1)} ms` : "-"}</p>
    </section>
  );
}

/**
 * The playground for transliteration bases (`input.kind: "transliteration"`): the `CharSeq2Seq` base
 * loads once in the browser; a word is decoded greedily by the base and by base + the chosen adapter,
 * side by side. A click swaps the adapter's factors onto the frozen base (the swap time is shown).
 */
export function TransliterationPlayground({
  base,
  adapters,
  backend,
  examples,
  initialAdapter,
}: TransliterationPlaygroundProps) {
  const [loaded, setLoaded] = useState<LoadedTranslit | null>(null);
  const [status, setStatus] = useState("Loading the base model…");
  const [word, setWord] = useState(examples[0] ?? "");
  const [active, setActive] = useState<string | null>(null);
  /** A second adapter added beside the active one ("" for none). */
  const [mix, setMix] = useState("");
  const [scales, setScales] = useState<Record<string, number>>({});
  const [baseOut, setBaseOut] = useState<TranslitOutput | null>(null);
  const [adapterOut, setAdapterOut] = useState<TranslitOutput | null>(null);
  const [swap, setSwap] = useState<{ label: string; ms: number; fetchMs: number | null } | null>(null);
  /** The word and the adapters (at their scales) that produced the outputs on screen, set with them. */
  const [shown, setShown] = useState<{ word: string; adapters: { ref: string; scale: number }[] } | null>(null);
  const [error, setError] = useState("");
  const [agreement, setAgreement] = useState("");
  /** The base, the fetched adapters and the work in flight of this mount; disposed when it goes. */
  const resources = useRef<PlaygroundResources<LoadedTranslit["model"]> | null>(null);
  const generation = useRef(0);
  const trpc = useTRPC();
  const server = useMutation(trpc.inference.run.mutationOptions());

  useEffect(() => {
    const r = new PlaygroundResources<LoadedTranslit["model"]>(loadAdapter);
    resources.current = r;
    loadTranslitBase(base, backend).then(
      (l) => {
        if (!r.hold(l.model)) return;
        setLoaded(l);
        setStatus("");
      },
      (e: Error) => !r.released && setStatus(`Could not load ${base}: ${e.message}`),
    );
    return () => {
      if (resources.current === r) resources.current = null;
      void r.release();
    };
  }, [base, backend]);

  async function evaluate(repo: string | null, text = word, nextScales = scales, mixWith = mix) {
    const r = resources.current;
    if (!loaded || !r) return;
    const mine = ++generation.current;
    setError("");
    try {
      // A mix only joins an active adapter (the select is disabled without one).
      const repos = repo ? [repo, ...(mixWith && mixWith !== repo ? [mixWith] : [])] : [];
      const fresh = repos.some((x) => !r.has(x));
      const f0 = performance.now();
      const { b, a, swapped, fetchMs } = await r.run(async () => {
        const weights = await Promise.all(repos.map((x) => r.adapter(x)));
        const fetchMs = fresh ? performance.now() - f0 : null;
        const t0 = performance.now();
        const parts = weights.map((w, i) => ({ adapter: w, scale: nextScales[repos[i] as string] ?? 1 }));
        const linear = parts.length ? await withAdapters(loaded, parts) : null;
        const swapped = performance.now() - t0;
        const b = await transliterate(loaded, loaded.model.linear, text);
        const a = linear ? await transliterate(loaded, linear, text) : null;
        return { b, a, swapped, fetchMs };
      });
      if (mine !== generation.current) return;
      setBaseOut(b);
      setAdapterOut(a);
      setShown({ word: text, adapters: repos.map((ref) => ({ ref, scale: nextScales[ref] ?? 1 })) });
      setAgreement("");
      const label = repos
        .map((r) => ((nextScales[r] ?? 1) === 1 ? r : `${r} × ${(nextScales[r] ?? 1).toFixed(1)}`))
        .join(" + ");
      setSwap(repos.length ? { label, ms: swapped, fetchMs } : null);
    } catch (e) {
      if (mine === generation.current) setError((e as Error).message);
    }
  }

  const choose = (repo: string) => {
    setActive(repo);
    void evaluate(repo);
  };

  const started = useRef(false);
  useEffect(() => {
    if (!loaded || started.current) return;
    started.current = true;
    if (initialAdapter && adapters.some((a) => a.repo === initialAdapter)) choose(initialAdapter);
    else void evaluate(null);
  }, [loaded]);

  /** The same word on the hub's inference API (greedy decoding there); both answers must be equal. */
  async function checkOnServer() {
    const mine = adapterOut ?? baseOut;
    if (!mine || !shown) return;
    setAgreement("");
    try {
      // Exactly what produced the output on screen, not what the form holds now.
      const r = await server.mutateAsync({ base, adapters: adapterOut ? shown.adapters : [], word: shown.word });
      setAgreement(
        `${r.text === mine.text ? "Agrees" : "Disagrees"}: the server says ${JSON.stringify(r.text)}, the browser ${JSON.stringify(mine.text)}.`,
      );
    } catch (e) {
      setAgreement(`The server could not run it: ${(e as Error).message}`);
    }
  }

  return (
    <div>
      <BackendStatus base={base} loaded={loaded} status={status} />
      <form
        className="stack wide-form"
        onSubmit={(e) => {
          e.preventDefault();
          void evaluate(active);
        }}
      >
        <div className="field">
          <label htmlFor="translit-word">Word to transliterate (Cyrillic)</label>
          <input
            id="translit-word"
            lang="und-Cyrl"
            value={word}
            maxLength={loaded?.model.hparams.srcLen ?? 16}
            autoComplete="off"
            onChange={(e) => setWord(e.target.value.toLowerCase())}
          />
        </div>
        <button type="submit" disabled={!loaded}>
          Transliterate
        </button>
      </form>
      {examples.length ? (
        <p>
          Examples:{" "}
          {examples.map((w) => (
            <button
              key={w}
              type="button"
              className="link"
              disabled={!loaded}
              onClick={() => {
                setWord(w);
                void evaluate(active, w);
              }}
            >
              {w}
            </button>
          ))}
        </p>
      ) : null}
      <AdapterControls
        idPrefix="translit-"
        adapters={adapters}
        loaded={Boolean(loaded)}
        active={active}
        mix={mix}
        scales={scales}
        onChoose={choose}
        onScales={(next, repo) => {
          setScales(next);
          if (active === repo || mix === repo) void evaluate(active, word, next);
        }}
        onMix={(repo) => {
          setMix(repo);
          void evaluate(active, word, scales, repo);
        }}
      />
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <SwapNote swap={swap} />
      <ServerCheck
        onRun={() => void checkOnServer()}
        disabled={!baseOut}
        pending={server.isPending}
        agreement={agreement}
      />
      <div className="columns">
        <Word label={`Base ${base}`} output={baseOut} testId="translit-base" />
        <Word label={swap ? `With ${swap.label}` : "With an adapter"} output={adapterOut} testId="translit-adapter" />
      </div>
    </div>
  );
}
