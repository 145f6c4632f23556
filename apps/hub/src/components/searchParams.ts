import type { SearchInput } from "@lowrank/api";

export const SORTS = ["relevance", "downloads", "likes", "newest"] as const;
export const FORMATS = ["peft", "gguf", "kohya"] as const;

/** What the search page's URL holds: every filter as a string, as a form sends it. */
export interface SearchState {
  q: string;
  base: string;
  task: string;
  license: string;
  tags: string;
  format: string;
  minRank: string;
  maxRank: string;
  sort: string;
  cursor: string;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? "";

export function readSearchState(params: Record<string, string | string[] | undefined>): SearchState {
  return {
    q: first(params.q).slice(0, 200),
    base: first(params.base),
    task: first(params.task),
    license: first(params.license),
    tags: first(params.tags),
    format: first(params.format),
    minRank: first(params.minRank),
    maxRank: first(params.maxRank),
    sort: first(params.sort),
    cursor: first(params.cursor),
  };
}

const int = (s: string) => (/^\d{1,5}$/.test(s) && Number(s) > 0 ? Number(s) : undefined);

/** The search procedure's input; a filter that cannot be valid is dropped rather than failing the page. */
export function toSearchInput(s: SearchState): SearchInput {
  const q = s.q.trim() || undefined;
  const sort = (SORTS as readonly string[]).includes(s.sort) ? (s.sort as SearchInput["sort"]) : undefined;
  let minRank = int(s.minRank);
  let maxRank = int(s.maxRank);
  if (minRank !== undefined && maxRank !== undefined && minRank > maxRank) [minRank, maxRank] = [maxRank, minRank];
  const tags = s.tags
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean)
    .slice(0, 8);
  return {
    q,
    base: s.base || undefined,
    task: /^[a-z0-9-]{1,64}$/.test(s.task) ? s.task : undefined,
    license: /^[A-Za-z0-9._+-]{1,64}$/.test(s.license) ? s.license : undefined,
    tags: tags.length ? tags : undefined,
    format: (FORMATS as readonly string[]).includes(s.format) ? (s.format as SearchInput["format"]) : undefined,
    minRank,
    maxRank,
    sort: sort === "relevance" && !q ? undefined : sort,
    cursor: s.cursor || undefined,
    limit: 20,
  };
}

/** The URL of a search: empty fields left out, so shared links stay short. */
export function searchHref(s: Partial<SearchState>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (v) p.set(k, v);
  const qs = p.toString();
  return qs ? `/search?${qs}` : "/search";
}
