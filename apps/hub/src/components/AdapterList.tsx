import type { SearchHit } from "@lowrank/api";
import { compactNumber, isoDay } from "./format.js";
import { Link } from "./Link.js";

/** A list of adapters as cards: name, base, task, rank, format, downloads, likes. */
export function AdapterList({ items, empty = "No adapters yet." }: { items: SearchHit[]; empty?: string }) {
  if (items.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="cards">
      {items.map((a) => (
        <li key={a.id} className="card">
          <h3 className="card-title">
            <Link href={`/${a.owner}/${a.name}`}>
              {a.owner}/{a.name}
            </Link>
          </h3>
          {a.description ? <p className="card-desc">{a.description}</p> : null}
          <p className="meta">
            <span>
              base <Link href={`/bases/${a.baseModel}`}>{a.baseModel}</Link>
            </span>
            {a.task ? <span>{a.task}</span> : null}
            {a.rank ? <span>r={a.rank}</span> : null}
            {a.format ? <span>{a.format}</span> : null}
            <span>{compactNumber(a.downloads)} downloads</span>
            <span>{compactNumber(a.likes)} likes</span>
            <span>
              <time dateTime={new Date(a.createdAt).toISOString()}>{isoDay(a.createdAt)}</time>
            </span>
          </p>
        </li>
      ))}
    </ul>
  );
}
