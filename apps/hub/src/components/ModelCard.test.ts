import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { ModelCard } from "./ModelCard.js";

const render = (markdown: string) => renderToStaticMarkup(createElement(ModelCard, { markdown }));

describe("ModelCard", () => {
  it("renders GitHub Markdown and the HTML Hugging Face cards carry", () => {
    const html = render(
      "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<details><summary>More</summary>\n\n*hidden*\n\n</details>\n",
    );
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<table>");
    expect(html).toContain("<details><summary>More</summary>");
    expect(html).toContain("<em>hidden</em>");
  });

  it("drops scripts, event handlers, javascript: and data: links, inline styles and iframes", () => {
    const html = render(
      [
        "<script>alert(1)</script>",
        '<img src="a.png" onerror="alert(2)">',
        '<a href="javascript:alert(3)">x</a>',
        "[y](javascript:alert(4))",
        '<a href="data:text/html,<script>alert(5)</script>">z</a>',
        '<p style="position:fixed" onclick="alert(6)">p</p>',
        '<iframe src="https://example.com"></iframe>',
        "<svg><script>alert(7)</script></svg>",
      ].join("\n\n"),
    );
    for (const bad of ["<script", "onerror", "onclick", "javascript:", "data:text", "style=", "<iframe", "alert("])
      expect(html).not.toContain(bad);
    expect(html).toContain("<p>p</p>");
  });

  it("keeps images from this hub only, with alt text", () => {
    const html = render('![chart](plot.png)\n\n<img src="https://tracker.example/pixel.gif" alt="t">');
    expect(html).toContain('<img src="plot.png" alt="chart"/>');
    expect(html).not.toContain("tracker.example");
    expect(html).toContain("[image: t from another site, not loaded]");
  });

  it("says so when there is no card", () => {
    expect(render("  \n")).toContain("no model card");
  });
});
