import type { ModelOutput } from "./playgroundModel.js";

/** Class probabilities as a small bar chart (a list of labelled bars; the numbers are in the text too). */
function ClassBars({ output, testId }: { output: ModelOutput; testId: string }) {
  const classes = output.classes ?? [];
  const best = classes.reduce((b, c, i) => (c.p > (classes[b]?.p ?? -1) ? i : b), 0);
  return (
    <>
      <p>
        Answer: <strong data-testid={`${testId}-answer`}>{classes[best]?.label ?? "-"}</strong> (p=
        {(classes[best]?.p ?? 0).toFixed(3)})
      </p>
      <ul className="bars" data-testid={`${testId}-classes`}>
        {classes.map((c) => (
          <li key={c.label} data-label={c.label} data-p={c.p} data-logit={c.logit}>
            <span className="bar-label">{c.label}</span>
            <span className="bar-track" aria-hidden="true">
              <span className="bar-fill" style={{ width: `${(c.p * 100).toFixed(1)}%` }} />
            </span>
            <span className="bar-value">{(c.p * 100).toFixed(1)}%</span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** One column of the playground: the base's output or the adapter's. */
export function Output({ label, output, testId }: { label: string; output: ModelOutput | null; testId: string }) {
  return (
    <section
      className="panel"
      aria-label={label}
      data-testid={testId}
      data-logits={output?.kind === "classes" ? output.values.join(",") : undefined}
    >
      <h3>{label}</h3>
      {!output ? (
        <p className="muted">No output yet.</p>
      ) : output.kind === "classes" ? (
        <ClassBars output={output} testId={testId} />
      ) : output.kind === "next-token" ? (
        <>
          <p>
            Continuation:{" "}
            <strong data-testid={`${testId}-continuation`} style={{ whiteSpace: "pre-wrap" }}>
              {output.continuation || "(empty)"}
            </strong>
          </p>
          <ol data-testid={`${testId}-top`}>
            {output.top.map((t) => (
              <li key={t.id} data-token-id={t.id}>
                <code>{JSON.stringify(t.text)}</code> (id {t.id}) p=
                {t.p >= 0.001 ? t.p.toFixed(3) : t.p.toExponential(2)}
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p>
          First values:{" "}
          <code data-testid={`${testId}-values`}>{output.values.map((v) => v.toFixed(4)).join(", ")}</code>
        </p>
      )}
      <p className="muted">forward {output ? `${output.ms.toFixed(1)} ms` : "-"}</p>
    </section>
  );
}
