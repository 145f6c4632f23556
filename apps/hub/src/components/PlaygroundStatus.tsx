import type { BackendInfo } from "@lowrank/runtime";

/** "Base X loaded in N ms on wasm (SIMD)." once loaded, else the loading status. */
export function BackendStatus({
  base,
  loaded,
  status,
}: {
  base: string;
  loaded: { loadMs: number; backend: BackendInfo } | null;
  status: string;
}) {
  const b = loaded?.backend;
  return (
    <p role="status" data-testid="backend">
      {loaded && b
        ? `Base ${base} loaded in ${loaded.loadMs.toFixed(0)} ms on ${b.backend}${b.backend === "wasm" ? (b.simd ? " (SIMD)" : " (no SIMD)") : ""}.`
        : status}
    </p>
  );
}

/** The last swap: what was attached, how long attaching took, and the first-use download when there was one. */
export function SwapNote({ swap }: { swap: { label: string; ms: number; fetchMs: number | null } | null }) {
  return (
    <p data-testid="swap" aria-live="polite">
      {swap
        ? `Swapped to ${swap.label} in ${swap.ms.toFixed(3)} ms (base not reloaded${swap.fetchMs === null ? "" : `; adapter downloaded and put on the backend first, ${swap.fetchMs.toFixed(0)} ms`}).`
        : ""}
    </p>
  );
}

/** The button that runs the same input on the hub's inference API, and what it found. */
export function ServerCheck(props: { onRun: () => void; disabled: boolean; pending: boolean; agreement: string }) {
  return (
    <p>
      <button type="button" onClick={props.onRun} disabled={props.disabled || props.pending}>
        Run the same input on the server
      </button>{" "}
      <span data-testid="agreement" aria-live="polite">
        {props.pending ? "Running on the server…" : props.agreement}
      </span>
    </p>
  );
}
