"use client";

import { hashedFeatures } from "@lowrank/examples/features";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTRPC } from "../trpc/react.js";
import { AdapterControls } from "./AdapterControls.js";
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
import { PlaygroundResources } from "./playgroundResources.js";
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
  /** The adapters (at their scales) that produced the outputs on screen, set with them. */
  const [shownAdapters, setShownAdapters] = useState<{ ref: string; scale: number }[]>([]);
  const [error, setError] = useState("");
  /** The base, the fetched adapters and the work in flight of this mount; disposed when it goes. */
  const resources = useRef<PlaygroundResources<LoadedBase["model"]> | null>(null);
  const trpc = useTRPC();
  const server = useMutation(trpc.inference.run.mutationOptions());
  const [agreement, setAgreement] = useState("");
  /** The latest drawing (image bases), as the model's input row; null while nothing is drawn. */
  const drawing = useRef<Float32Array | null>(null);
  const [drawn, setDrawn] = useState(false);

  /** The same input on the hub's inference API; the browser's answer and the server's must agree. */
  async function checkOnServer() {
    const mine = adapterOut ?? baseOut;
    if (mine?.kind !== "next-token" && mine?.kind !== "classes") return;
    setAgreement("");
    try {
      // Exactly what produced the output on screen: its input and its adapters, not the form's now.
      const result = await server.mutateAsync({
        base,
        adapters: adapterOut ? shownAdapters : [],
        ...(mine.features
          ? { input: Array.from(mine.features), shape: [mine.features.length] }
          : { inputIds: mine.ids }),
      });
      setAgreement(agreementOf(mine, result));
    } catch (e) {
      setAgreement(`The server could not run it: ${(e as Error).message}`);
    }
  }

  /** What the model takes for the current input (features of the drawing or sentence, else token ids); null when nothing is drawn. */
  function modelInput(l: LoadedBase): ModelInput | null {
    if (input.kind === "image") return drawing.current ? { features: drawing.current } : null;
    if (input.kind === "hashed-text") return { features: hashedFeatures([prompt], input.features) };
    return { ids: encode(l, prompt) };
  }

  useEffect(() => {
    const r = new PlaygroundResources<LoadedBase["model"]>(loadAdapter);
    resources.current = r;
    loadBase(base, files, backend, input).then(
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
  }, [base, files, backend, input]);

  /** Only the latest evaluation may show its result (clicks can overtake each other). */
  const generation = useRef(0);

  async function evaluate(repo: string | null, mixWith: string, nextScales = scales) {
    const r = resources.current;
    if (!loaded || !r) return;
    const mine = ++generation.current;
    setError("");
    try {
      const x = modelInput(loaded);
      // A mix only joins an active adapter (the select is disabled without one).
      const repos = repo ? [repo, ...(mixWith && mixWith !== repo ? [mixWith] : [])] : [];
      const fresh = repos.some((name) => !r.has(name));
      const fetchStart = performance.now();
      const { b, a, swapped, fetchMs } = await r.run(async () => {
        const weights = await Promise.all(repos.map((name) => r.adapter(name)));
        const parts = weights.map((w, i) => ({ adapter: w, scale: nextScales[repos[i] as string] ?? 1 }));
        const fetchMs = fresh ? performance.now() - fetchStart : null;
        // The swap: attach resident factors to the frozen base; the base itself is never reloaded.
        const t0 = performance.now();
        const linear = await composeLinear(loaded, parts);
        const swapped = performance.now() - t0;
        if (!x) return { b: null, a: null, swapped, fetchMs }; // nothing drawn yet: nothing to run
        const b = await run(loaded, loaded.model.linear, x);
        const a = parts.length ? await run(loaded, linear, x) : null;
        return { b, a, swapped, fetchMs };
      });
      if (mine !== generation.current) return;
      setBaseOut(b);
      setAdapterOut(a);
      setShownAdapters(repos.map((ref) => ({ ref, scale: nextScales[ref] ?? 1 })));
      setAgreement(""); // it was about the previous outputs
      setSwap(repos.length ? { label: repos.join(" + "), ms: swapped, fetchMs } : null);
    } catch (e) {
      if (mine === generation.current) setError((e as Error).message);
    }
  }

  /** The drawing was cleared: no input, so no outputs (an evaluation in flight is dropped). */
  function cleared() {
    drawing.current = null;
    generation.current++;
    setDrawn(false);
    setBaseOut(null);
    setAdapterOut(null);
    setAgreement("");
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
        <>
          <DigitCanvas
            disabled={!loaded}
            onDraw={(px) => {
              drawing.current = px;
              setDrawn(true);
              void evaluate(active, mix);
            }}
            onClear={cleared}
          />
          {drawn ? null : (
            <p className="muted" data-testid="nothing-drawn">
              Nothing drawn yet: draw a digit on the black square to see the answers.
            </p>
          )}
        </>
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
      <AdapterControls
        idPrefix=""
        adapters={adapters}
        loaded={Boolean(loaded)}
        active={active}
        mix={mix}
        scales={scales}
        onChoose={choose}
        onScales={(next, repo) => {
          setScales(next);
          if (active === repo || mix === repo) void evaluate(active, mix, next);
        }}
        onMix={(repo) => {
          setMix(repo);
          void evaluate(active, repo === active ? "" : repo);
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
        <Output label={`Base ${base}`} output={baseOut} testId="base-out" />
        <Output label={swap ? `With ${swap.label}` : "With an adapter"} output={adapterOut} testId="adapter-out" />
      </div>
    </div>
  );
}
