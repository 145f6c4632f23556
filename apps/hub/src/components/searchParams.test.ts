import { describe, expect, it } from "vitest";
import { readSearchState, searchHref, toSearchInput } from "./searchParams.js";

describe("search URL", () => {
  it("reads every filter from the URL and drops what cannot be valid", () => {
    const state = readSearchState({
      q: " tigrinya ",
      base: "openai-community/gpt2",
      task: "text-generation",
      license: "mit",
      tags: "Chat, demo,,",
      format: "gguf",
      minRank: "16",
      maxRank: "4",
      sort: "likes",
    });
    expect(toSearchInput(state)).toEqual({
      q: "tigrinya",
      base: "openai-community/gpt2",
      task: "text-generation",
      license: "mit",
      tags: ["chat", "demo"],
      format: "gguf",
      minRank: 4,
      maxRank: 16,
      sort: "likes",
      cursor: undefined,
      limit: 20,
    });
    const odd = toSearchInput(
      readSearchState({ task: "Not A Task", format: "pickle", minRank: "-1", sort: "relevance" }),
    );
    expect(odd).toMatchObject({ task: undefined, format: undefined, minRank: undefined, sort: undefined });
  });

  it("writes only the fields that are set, so shared links stay short", () => {
    expect(searchHref({ q: "a b", base: "", sort: "newest" })).toBe("/search?q=a+b&sort=newest");
    expect(searchHref({})).toBe("/search");
  });
});
