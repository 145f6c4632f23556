"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc/react.js";

export function HealthStatus() {
  const trpc = useTRPC();
  const health = useQuery(trpc.health.queryOptions());

  if (health.isPending) return <p className="status pending">Checking the database…</p>;
  if (health.isError) {
    return (
      <p className="status error" role="alert">
        Database unavailable: {health.error.message}
      </p>
    );
  }
  const { database, time } = health.data;
  return (
    <section className="status ok" aria-label="Hub status">
      <p className="headline">
        <span className="dot" aria-hidden="true" />
        <strong>Healthy.</strong> Using {database.kind === "pglite" ? "embedded PGlite" : "PostgreSQL"}.
      </p>
      {/* Where the data lives and the server's build are for `lowrank doctor` and an admin, not visitors. */}
      <dl>
        <dt>Checked</dt>
        <dd>{time.toLocaleString()}</dd>
      </dl>
      <button type="button" onClick={() => void health.refetch()} disabled={health.isFetching}>
        {health.isFetching ? "Checking…" : "Check again"}
      </button>
    </section>
  );
}
