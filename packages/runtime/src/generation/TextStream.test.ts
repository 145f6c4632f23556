import { describe, expect, it } from "vitest";
import { TextStream } from "./TextStream.js";

// A toy detokenizer: token i is the i-th piece; concatenation as a byte-level BPE decode would do.
const pieces = ["Hel", "lo", " wor", "ld", "!", " E", "ND", " more"];
const decode = (ids: readonly number[]) => ids.map((i) => pieces[i]).join("");

function run(stops: string[], tokens: number[]) {
  const s = new TextStream(decode, stops);
  const deltas: string[] = [];
  let stopped = false;
  for (const t of tokens) {
    const r = s.push(t);
    deltas.push(r.delta);
    if (r.stopped) {
      stopped = true;
      break;
    }
  }
  deltas.push(s.finish());
  return { deltas, text: deltas.join(""), stopped, final: s.text };
}

describe("TextStream", () => {
  it("streams every piece when there are no stop sequences; the deltas add up to the decode", () => {
    const r = run([], [0, 1, 2, 3, 4]);
    expect(r.text).toBe("Hello world!");
    expect(r.deltas.slice(0, 5)).toEqual(["Hel", "lo", " wor", "ld", "!"]);
  });

  it("ends before a stop sequence split across tokens, never sending its start", () => {
    const r = run([" END"], [0, 1, 5, 6, 7]);
    expect(r.stopped).toBe(true);
    expect(r.text).toBe("Hello");
    expect(r.final).toBe("Hello");
    // " E" could start " END": held back, not sent.
    expect(r.deltas.join("").includes(" E")).toBe(false);
  });

  it("releases held-back text when the stop sequence does not follow", () => {
    const r = run([" EX"], [0, 5, 1]);
    expect(r.stopped).toBe(false);
    expect(r.deltas).toEqual(["Hel", "", " Elo", ""]);
  });

  it("picks the earliest of several stop sequences", () => {
    expect(run(["ld", "lo"], [0, 1, 2, 3]).text).toBe("Hel");
  });

  it("holds back an incomplete UTF-8 character (U+FFFD) until it completes", () => {
    const parts = ["a", "\ufffd", "é"]; // token 1 alone decodes to a replacement character
    const dec = (ids: readonly number[]) =>
      ids.join(",") === "0,1"
        ? "a\ufffd"
        : ids
            .map((i) => parts[i])
            .join("")
            .replace("\ufffdé", "é");
    const s = new TextStream(dec);
    expect(s.push(0).delta).toBe("a");
    expect(s.push(1).delta).toBe("");
    expect(s.push(2).delta).toBe("é");
  });
});
