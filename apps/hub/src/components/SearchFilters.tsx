"use client";

import { useRouter } from "next/navigation.js";
import { type FormEvent, useEffect, useRef, useTransition } from "react";
import { FORMATS, type SearchState, SORTS, searchHref } from "./searchParams.js";

const SORT_LABELS: Record<(typeof SORTS)[number], string> = {
  relevance: "Relevance",
  downloads: "Most downloads",
  likes: "Most likes",
  newest: "Newest",
};

/**
 * The search form. It is a GET form, so without JavaScript submitting it loads the results page; with
 * JavaScript, typing in the query box or changing a filter replaces the URL (debounced) and the
 * server renders the new results in place.
 */
export function SearchFilters({ state, bases }: { state: SearchState; bases: string[] }) {
  const router = useRouter();
  const form = useRef<HTMLFormElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [pending, startTransition] = useTransition();

  useEffect(() => () => clearTimeout(timer.current), []);

  const go = () => {
    if (!form.current) return;
    const data = new FormData(form.current);
    const next: Partial<SearchState> = {};
    for (const [k, v] of data.entries()) if (typeof v === "string") next[k as keyof SearchState] = v;
    startTransition(() => router.replace(searchHref(next), { scroll: false }));
  };
  const soon = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(go, 250);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    clearTimeout(timer.current);
    go();
  };

  return (
    <search>
      <form ref={form} className="filters" action="/search" method="get" onSubmit={submit} onChange={soon}>
        <div className="field query">
          <label htmlFor="q">Query</label>
          <input id="q" name="q" type="search" defaultValue={state.q} placeholder="words, &quot;a phrase&quot;, -not" />
        </div>
        <div className="field">
          <label htmlFor="base">Base model</label>
          <select id="base" name="base" defaultValue={state.base}>
            <option value="">Any</option>
            {bases.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="task">Task</label>
          <input id="task" name="task" defaultValue={state.task} placeholder="text-generation" list="tasks" />
          <datalist id="tasks">
            <option value="text-generation" />
            <option value="text-classification" />
            <option value="image-classification" />
            <option value="translation" />
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="license">License</label>
          <input id="license" name="license" defaultValue={state.license} placeholder="mit" />
        </div>
        <div className="field">
          <label htmlFor="tags">Tags (comma-separated)</label>
          <input id="tags" name="tags" defaultValue={state.tags} placeholder="demo, chat" />
        </div>
        <div className="field">
          <label htmlFor="format">Format</label>
          <select id="format" name="format" defaultValue={state.format}>
            <option value="">Any</option>
            {FORMATS.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </div>
        <fieldset className="field rank">
          <legend>Rank</legend>
          <label htmlFor="minRank">from</label>
          <input id="minRank" name="minRank" type="number" min={1} inputMode="numeric" defaultValue={state.minRank} />
          <label htmlFor="maxRank">to</label>
          <input id="maxRank" name="maxRank" type="number" min={1} inputMode="numeric" defaultValue={state.maxRank} />
        </fieldset>
        <div className="field">
          <label htmlFor="sort">Sort</label>
          <select id="sort" name="sort" defaultValue={state.sort}>
            <option value="">Default order</option>
            {SORTS.map((s) => (
              <option key={s} value={s}>
                {SORT_LABELS[s]}
              </option>
            ))}
          </select>
        </div>
        <div className="actions">
          <button type="submit">Search</button>
          <span className="muted" aria-live="polite">
            {pending ? "Updating…" : ""}
          </span>
        </div>
      </form>
    </search>
  );
}
