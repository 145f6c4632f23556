import { AdapterList } from "../components/AdapterList.js";
import { Link } from "../components/Link.js";
import { SearchForm } from "../components/SearchForm.js";
import { getCaller } from "../server/caller.js";
import { HealthStatus } from "./HealthStatus.js";

export const dynamic = "force-dynamic";

export default async function Home() {
  const caller = await getCaller();
  const [trending, newest, bases] = await Promise.all([
    caller.search({ sort: "downloads", limit: 6 }),
    caller.search({ sort: "newest", limit: 6 }),
    caller.bases.overview(),
  ]);
  return (
    <main className="wide">
      <h1>lowrank hub</h1>
      <p className="lede">
        Publish, search and try LoRA adapters: small low-rank updates checked against the base model they fit, and
        hot-swapped onto bases that stay loaded.
      </p>
      <SearchForm />
      <div className="columns">
        <section aria-labelledby="trending">
          <h2 id="trending">Trending</h2>
          <AdapterList items={trending.items} />
        </section>
        <section aria-labelledby="newest">
          <h2 id="newest">Newest</h2>
          <AdapterList items={newest.items} />
        </section>
      </div>
      <section aria-labelledby="bases">
        <h2 id="bases">Base models</h2>
        <table>
          <caption className="visually-hidden">Base models and how many adapters each has</caption>
          <thead>
            <tr>
              <th scope="col">Base</th>
              <th scope="col">Architecture</th>
              <th scope="col">Adapters</th>
            </tr>
          </thead>
          <tbody>
            {bases.map((b) => (
              <tr key={b.id}>
                <td>
                  <Link href={`/bases/${b.name}`}>{b.name}</Link>
                </td>
                <td>{b.architecture}</td>
                <td>
                  {b.adapterCount > 0 ? (
                    <Link href={`/search?base=${encodeURIComponent(b.name)}`}>{b.adapterCount}</Link>
                  ) : (
                    0
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <HealthStatus />
    </main>
  );
}
