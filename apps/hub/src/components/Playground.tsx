"use client";

import { hashedFeatures } from "@lowrank/examples/features";
import type { AdapterWeights } from "@lowrank/runtime";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTRPC } from "../trpc/react.js";
import { DigitCanvas } from "./DigitCanvas.js";
import type { InputSpec } from "./inputSpec.js";
import { Output } from "./PlaygroundOutput.js";
import { BackendStatus, ServerCheck, SwapNote } from "./PlaygroundStatus.js";
import {
  composeLinear,
  encode,
  type LoadedBase,
  loadAdapter,
  loadBase,
  type ModelInput,
  type ModelOutput,
  run,
} from "./playgroundModel.js";
import { agreementOf } from "./serverAgreement.js";

export interface PlaygroundProps {
  base: string;
  files: string[];
  adapters: { repo: string; rank: number | null }[];
  backend: "auto" | "webgpu" | "wasm";
  defaultPrompt: string;
  /** Which input widget and preprocessing the base takes (a digit canvas, a sentence, a prompt). */
  input: InputSpec;
  /** Swapped in as soon as the base is loaded (the adapter page's "try it" link). */
  initialAdapter?: string;
}

/**
 * Loads the base once in the browser (`@lowrank/runtime`: WebGPU where present, else wasm), then
 * swaps adapters on it: a click attaches the adapter's factors to the frozen base (no reload) and
 * runs the input (a prompt, a sentence, a drawn digit) through base and base+adapter side by side,
 * with the swap time.
 */
export function Playground({ base, files, adapters, backend, defaultPrompt, input, initialAdapter }: PlaygroundProps) {
  const [loaded, setLoaded] = useState<LoadedBase | null>(null);
  const [status, setStatus] = useState("Loading the base model…");
  const [prompt, setPrompt] = useState(defaultPrompt);
  const [active, setActive] = useState<string | null>(null);
  const [mix, setMix] = useState<string>("");
  const [scales, setScales] = useState<Record<string, number>>({});
  const [baseOut, setBaseOut] = useState<ModelOutput | null>(null);
  const [adapterOut, setAdapterOut] = useState<ModelOutput | null>(null);
  /** What the outputs on screen were computed with: set together with them, never ahead of them. */
  const [swap, setSwap] = useState<{ label: string; ms: number; fetchMs: number | null } | null>(null);
  const [error, setError] = useState("");
  const cache = useRef(new Map<string, Promise<AdapterWeights>>());
  const trpc = useTRPC();
  const server = useMutation(trpc.inference.run.mutationOptions());
  const [agreement, setAgreement] = useState("");
  /** The latest drawing (image bases), as the model's input row. */
  const drawing = useRef<Float32Array | null>(null);

  /** The same input on the hub's inference API; the browser's answer and the server's must agree. */
  async function checkOnServer() {
    const mine = adapterOut ?? baseOut;
    if (mine?.kind !== "next-token" && mine?.kind !== "classes") return;
    setAgreement("");
    const refs = [active, mix && mix !== active ? mix : null].filter((r): r is string => Boolean(r));
    try {
      const result = await server.mutateAsync({
        base,
        adapters: adapterOut ? refs.map((ref) => ({ ref, scale: scales[ref] ?? 1 })) : [],
        ...(mine.features
          ? { input: Array.from(mine.features), shape: [mine.features.length] }
          : { inputIds: mine.ids }),
      });
      setAgreement(agreementOf(mine, result));
    } catch (e) {
      setAgreement(`The server could not run it: ${(e as Error).message}`);
    }
  }

  /** What the model takes for the current input: features of the drawing or sentence, else token ids. */
  function modelInput(l: LoadedBase): ModelInput {
    if (input.kind === "image") return { features: drawing.current ?? new Float32Array(input.width * input.height) };
    if (input.kind === "hashed-text") return { features: hashedFeatures([prompt], input.features) };
    return { ids: encode(l, prompt) };
  }

  useEffect(() => {
    let cancelled = false;
    loadBase(base, files, backend, input).then(
      (l) => {
        if (cancelled) return l.model.dispose();
        setLoaded(l);
        setStatus("");
      },
      (e: Error) => !cancelled && setStatus(`Could not load ${base}: ${e.message}`),
    );
    return () => {
      cancelled = true;
    };
  }, [base, files, backend, input]);

  const scaleOf = (repo: string) => scales[repo] ?? 1;
  const adapter = (repo: string) => {
    let p = cache.current.get(repo);
    if (!p) {
      p = loadAdapter(repo);
      p.catch(() => cache.current.delete(repo));
      cache.current.set(repo, p);
    }
    return p;
  };

  /** Only the latest evaluation may show its result (clicks can overtake each other). */
  const generation = useRef(0);

  async function evaluate(repo: string | null, mixWith: string, nextScales = scales) {
    if (!loaded) return;
    const mine = ++generation.current;
    setError("");
    try {
      const x = modelInput(loaded);
      const parts = [];
      const fetchStart = performance.now();
      let fresh = false;
      for (const r of [repo, mixWith].filter((x): x is string => Boolean(x) && x !== null)) {
        fresh ||= !cache.current.has(r);
        parts.push({ adapter: await adapter(r), scale: nextScales[r] ?? 1 });
      }
      const fetchMs = fresh ? performance.now() - fetchStart : null;
      // The swap: attach resident factors to the frozen base; the base itself is never reloaded.
      const t0 = performance.now();
      const linear = await composeLinear(loaded, parts);
      const swapped = performance.now() - t0;
      const [b, a] = [await run(loaded, loaded.model.linear, x), parts.length ? await run(loaded, linear, x) : null];
      if (mine !== generation.current) return;
      setBaseOut(b);
      setAdapterOut(a);
      setAgreement(""); // it was about the previous outputs
      setSwap(parts.length ? { label: [repo, mixWith].filter(Boolean).join(" + "), ms: swapped, fetchMs } : null);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  const choose = (repo: string) => {
    setActive(repo);
    void evaluate(repo, mix === repo ? "" : mix);
  };

  // Once the base has loaded: swap in the adapter the page was opened for, else show the base alone.
  const started = useRef(false);
  useEffect(() => {
    if (!loaded || started.current) return;
    started.current = true;
    if (initialAdapter && adapters.some((a) => a.repo === initialAdapter)) choose(initialAdapter);
    else void evaluate(null, "");
  }, [loaded]);

  return (
    <div>
      <BackendStatus base={base} loaded={loaded} status={status} />
      {input.kind === "image" ? (
        <DigitCanvas
          disabled={!loaded}
          onDraw={(px) => {
            drawing.current = px;
            void evaluate(active, mix);
          }}
        />
      ) : (
        <form
          className="stack wide-form"
          onSubmit={(e) => {
            e.preventDefault();
            void evaluate(active, mix);
          }}
        >
          <div className="field">
            <label htmlFor="prompt">
              {input.kind === "hashed-text"
                ? "Sentence"
                : files.includes("tokenizer.json")
                  ? "Prompt"
                  : "Token ids (comma-separated)"}
            </label>
            <input id="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
          </div>
          <button type="submit" disabled={!loaded}>
            Run
          </button>
        </form>
      )}
      <h2 id="adapters-heading">Adapters</h2>
      {adapters.length === 0 ? <p className="muted">No adapter for this base yet.</p> : null}
      <ul className="cards" aria-labelledby="adapters-heading">
        {adapters.map((a) => (
          <li key={a.repo} className="card">
            <button type="button" aria-pressed={active === a.repo} disabled={!loaded} onClick={() => choose(a.repo)}>
              Use {a.repo}
            </button>{" "}
            <span className="muted">r={a.rank ?? "?"}</span> <label htmlFor={`scale-${a.repo}`}>scale</label>{" "}
            <input
              id={`scale-${a.repo}`}
              type="range"
              min={0}
              max={2}
              step={0.1}
              value={scaleOf(a.repo)}
              onChange={(e) => {
                const next = { ...scales, [a.repo]: Number(e.target.value) };
                setScales(next);
                if (active === a.repo || mix === a.repo) void evaluate(active, mix, next);
              }}
            />{" "}
            <output htmlFor={`scale-${a.repo}`}>{scaleOf(a.repo).toFixed(1)}</output>
          </li>
        ))}
      </ul>
      {adapters.length > 1 ? (
        <div className="field">
          <label htmlFor="mix">Mix the active adapter with</label>
          <select
            id="mix"
            value={mix}
            onChange={(e) => {
              setMix(e.target.value);
              void evaluate(active, e.target.value === active ? "" : e.target.value);
            }}
          >
            <option value="">nothing</option>
            {adapters.map((a) => (
              <option key={a.repo} value={a.repo}>
                {a.repo}
              </option>
            ))}
          </select>
        </div>
      ) : null}
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
        <Output label={`Base ${base}`} output={baseOut} testId="base-out" />
        <Output label={swap ? `With ${swap.label}` : "With an adapter"} output={adapterOut} testId="adapter-out" />
      </div>
    </div>
  );
}
