"use client";

export interface AdapterControlsProps {
  /** Prefix of the element ids (two playgrounds may share a page's id space). */
  idPrefix: string;
  adapters: { repo: string; rank: number | null }[];
  loaded: boolean;
  active: string | null;
  mix: string;
  scales: Record<string, number>;
  onChoose: (repo: string) => void;
  /** New scales after one adapter's slider moved. */
  onScales: (next: Record<string, number>, repo: string) => void;
  onMix: (repo: string) => void;
}

/** The adapters of a base: a button to swap each in, its scale slider, and a second adapter to mix in. */
export function AdapterControls({
  idPrefix,
  adapters,
  loaded,
  active,
  mix,
  scales,
  onChoose,
  onScales,
  onMix,
}: AdapterControlsProps) {
  const scaleOf = (repo: string) => scales[repo] ?? 1;
  const heading = `${idPrefix}adapters-heading`;
  return (
    <>
      <h2 id={heading}>Adapters</h2>
      {adapters.length === 0 ? <p className="muted">No adapter for this base yet.</p> : null}
      <ul className="cards" aria-labelledby={heading}>
        {adapters.map((a) => (
          <li key={a.repo} className="card">
            <button type="button" aria-pressed={active === a.repo} disabled={!loaded} onClick={() => onChoose(a.repo)}>
              Use {a.repo}
            </button>{" "}
            <span className="muted">r={a.rank ?? "?"}</span> <label htmlFor={`${idPrefix}scale-${a.repo}`}>scale</label>{" "}
            <input
              id={`${idPrefix}scale-${a.repo}`}
              type="range"
              min={0}
              max={2}
              step={0.1}
              value={scaleOf(a.repo)}
              onChange={(e) => onScales({ ...scales, [a.repo]: Number(e.target.value) }, a.repo)}
            />{" "}
            <output htmlFor={`${idPrefix}scale-${a.repo}`}>{scaleOf(a.repo).toFixed(1)}</output>
          </li>
        ))}
      </ul>
      {adapters.length > 1 ? (
        <div className="field">
          <label htmlFor={`${idPrefix}mix`}>Mix the active adapter with</label>
          <select
            id={`${idPrefix}mix`}
            value={mix}
            disabled={!loaded || !active}
            onChange={(e) => onMix(e.target.value)}
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
    </>
  );
}
