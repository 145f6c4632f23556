import type { AdapterSpectrum } from "@lowrank/db";

const W = 240;
const H = 120;
const PAD = { left: 34, right: 8, top: 8, bottom: 22 };
/** Values below this share of σ₁ sit on the floor of the log axis. */
const FLOOR = 1e-4;

function shortName(name: string): string {
  const parts = name.split(".");
  return parts.length > 3 ? `…${parts.slice(-3).join(".")}` : name;
}

/** One module's singular values on a log axis (relative to σ₁), with the effective rank marked. */
function ModulePlot({
  module,
  energy,
  id,
}: {
  module: AdapterSpectrum["modules"][number];
  energy: number;
  id: string;
}) {
  const { values, effectiveRank: k } = module;
  const top = values[0] ?? 0;
  const n = values.length;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n <= 1 ? iw / 2 : (i / (n - 1)) * iw);
  const y = (v: number) => {
    const rel = top > 0 ? Math.max(v / top, FLOOR) : FLOOR;
    return PAD.top + (Math.log10(rel) / Math.log10(FLOOR)) * ih;
  };
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const kx = k > 0 ? (x(k - 1) + (k < n ? x(k) : x(k - 1) + 6)) / 2 : undefined;
  return (
    <figure className="spectrum">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width={W}
        height={H}
        role="img"
        aria-labelledby={`${id}-t ${id}-d`}
        data-module={module.name}
        data-effective-rank={k}
      >
        <title id={`${id}-t`}>{`Singular values of ${module.name}`}</title>
        <desc id={`${id}-d`}>
          {`${n} values, largest ${top.toPrecision(3)}; effective rank ${k} keeps ${Math.round(energy * 100)}% of the energy.`}
        </desc>
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} className="axis" />
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} className="axis" />
        <text x={PAD.left - 4} y={PAD.top + 4} className="tick" textAnchor="end">
          1
        </text>
        <text x={PAD.left - 4} y={H - PAD.bottom} className="tick" textAnchor="end">
          1e-4
        </text>
        <text x={PAD.left} y={H - 6} className="tick">
          1
        </text>
        <text x={W - PAD.right} y={H - 6} className="tick" textAnchor="end">
          {n}
        </text>
        {kx !== undefined ? (
          <g className="erank">
            <line x1={kx} y1={PAD.top} x2={kx} y2={H - PAD.bottom} />
            <text
              x={kx > W - PAD.right - 30 ? kx - 3 : kx + 3}
              y={PAD.top + 10}
              textAnchor={kx > W - PAD.right - 30 ? "end" : "start"}
            >{`k=${k}`}</text>
          </g>
        ) : null}
        <polyline points={points} className="line" fill="none" />
        {values.map((v, i) => (
          <circle key={i} cx={x(i)} cy={y(v)} r={2.5} className={i < k ? "kept" : "dropped"} />
        ))}
      </svg>
      <figcaption>
        <code title={module.name}>{shortName(module.name)}</code> · {n} values · effective rank {k}
      </figcaption>
    </figure>
  );
}

/** Small multiples, one per module, then the numbers as a table for screen readers and copying. */
export function SpectrumPlot({ spectrum }: { spectrum: AdapterSpectrum | null | undefined }) {
  if (!spectrum || spectrum.modules.length === 0)
    return <p className="muted">No singular values were computed for this version.</p>;
  const pct = Math.round(spectrum.energy * 100);
  return (
    <>
      <p className="muted">
        σᵢ of each module's ΔW = scale·B·A relative to σ₁ on a log axis. The dashed line marks the effective rank: the
        fewest values that keep {pct}% of Σσ².
      </p>
      <div className="spectra">
        {spectrum.modules.map((m, i) => (
          <ModulePlot key={m.name} module={m} energy={spectrum.energy} id={`sv${i}`} />
        ))}
      </div>
      <details>
        <summary>Singular values as a table</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Effective rank</th>
              <th scope="col">σ (largest first)</th>
            </tr>
          </thead>
          <tbody>
            {spectrum.modules.map((m) => (
              <tr key={m.name}>
                <td>
                  <code>{m.name}</code>
                </td>
                <td>{m.effectiveRank}</td>
                <td>{m.values.map((v) => v.toPrecision(3)).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}
