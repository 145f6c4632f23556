"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "../trpc/react.js";

/** "PostgreSQL 15.18 (Debian …) on x86_64-pc-linux-gnu, compiled by …" without the build details after " on ". */
function shortVersion(version: string): string {
  const at = version.indexOf(" on ");
  return at > 0 ? version.slice(0, at) : version;
}

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
      <dl>
        <dt>Location</dt>
        <dd>
          <code>{database.location}</code>
        </dd>
        <dt>Server</dt>
        <dd title={database.serverVersion}>{shortVersion(database.serverVersion)}</dd>
        <dt>Checked</dt>
        <dd>{time.toLocaleString()}</dd>
      </dl>
      <button type="button" onClick={() => void health.refetch()} disabled={health.isFetching}>
        {health.isFetching ? "Checking…" : "Check again"}
      </button>
    </section>
  );
}
