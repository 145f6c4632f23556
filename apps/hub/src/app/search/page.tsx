import type { Metadata } from "next";
import { AdapterList } from "../../components/AdapterList.js";
import { Link } from "../../components/Link.js";
import { SearchFilters } from "../../components/SearchFilters.js";
import { readSearchState, searchHref, toSearchInput } from "../../components/searchParams.js";
import { getCaller } from "../../server/caller.js";

export const metadata: Metadata = { title: "Search" };
export const dynamic = "force-dynamic";

export default async function SearchPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const state = readSearchState(await searchParams);
  const caller = await getCaller();
  const [bases, result] = await Promise.all([
    caller.bases.overview(),
    caller.search(toSearchInput(state)).catch((error: Error) => ({ error: error.message })),
  ]);
  return (
    <main className="wide">
      <h1>Search adapters</h1>
      <SearchFilters state={state} bases={bases.filter((b) => b.adapterCount > 0).map((b) => b.name)} />
      <section aria-labelledby="results" aria-live="polite">
        <h2 id="results">Results</h2>
        {"error" in result ? (
          <p role="alert" className="error">
            {result.error}
          </p>
        ) : (
          <>
            <p className="muted">
              {result.items.length === 0
                ? "No adapter matches."
                : `${result.items.length}${result.nextCursor ? "+" : ""} adapter${result.items.length === 1 ? "" : "s"}`}
            </p>
            <AdapterList items={result.items} empty="" />
            {result.nextCursor ? (
              <p>
                <Link href={searchHref({ ...state, cursor: result.nextCursor })}>Next page</Link>
              </p>
            ) : null}
          </>
        )}
      </section>
    </main>
  );
}
