/** The home page's query box: a plain GET form to /search (works without JavaScript). */
export function SearchForm() {
  return (
    <search>
      <form className="searchbar" action="/search" method="get">
        <label htmlFor="home-q">Search adapters</label>
        <input id="home-q" name="q" type="search" placeholder="e.g. sentiment, tigrinya, mnist" />
        <button type="submit">Search</button>
      </form>
    </search>
  );
}
