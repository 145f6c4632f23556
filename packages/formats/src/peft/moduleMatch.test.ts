import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTargetModule, matchesTarget, patternKeyFor, patternValue, savedModuleOf } from "./moduleMatch.js";
import { parsePeftConfig, rankAndAlpha } from "./parsePeftConfig.js";
import { parsePeftKey, peftKey } from "./peftKeys.js";

describe("rank_pattern / alpha_pattern: PEFT's get_pattern_key", () => {
  // PEFT (peft/utils/other.py) tries the keys in dict order and returns the first for which
  // re.match(rf"(.*\.)?({key})$", module) succeeds; an exact name has no precedence of its own.
  it("the first matching key in file order wins, even over an exact name later on", () => {
    const { config } = parsePeftConfig('{"r": 8, "rank_pattern": {"c_attn": 4, "h.0.attn.c_attn": 2}}');
    expect(rankAndAlpha("h.0.attn.c_attn", config).r).toBe(4);
    const { config: swapped } = parsePeftConfig('{"r": 8, "rank_pattern": {"h.0.attn.c_attn": 2, "c_attn": 4}}');
    expect(rankAndAlpha("h.0.attn.c_attn", swapped).r).toBe(2);
    expect(rankAndAlpha("h.1.attn.c_attn", swapped).r).toBe(4);
  });

  it("keys are regular expressions anchored at a dot or the start and at the end", () => {
    const keys = ["h\\.\\d\\.attn\\.v", "q"];
    expect(patternKeyFor(keys, "t.h.3.attn.v")).toBe(keys[0]);
    expect(patternKeyFor(keys, "t.h.13.attn.v")).toBeUndefined();
    expect(patternKeyFor(keys, "t.h.1.attn.q")).toBe("q");
    expect(patternKeyFor(keys, "t.h.1.attn.xq")).toBeUndefined();
    expect(patternKeyFor(keys, "q")).toBe("q");
    expect(patternValue("a.q.b", { q: 3 })).toBeUndefined();
  });

  it("a literal key matches exactly the names equal to it or ending in '.' + key", () => {
    const name = fc.stringMatching(/^[a-z]{1,3}(\.[a-z]{1,3}){0,3}$/);
    fc.assert(
      fc.property(name, name, (module, key) => {
        const expected = module === key || module.endsWith(`.${key}`);
        expect(patternKeyFor([key], module) === key).toBe(expected);
        expect(matchesTarget(module, [key])).toBe(expected);
      }),
    );
  });
});

describe("target and modules_to_save matching", () => {
  it("a string target is a full-match regular expression, a list matches by dotted suffix", () => {
    expect(matchesTarget("model.layers.1.q_proj", ".*q_proj")).toBe(true);
    expect(matchesTarget("model.layers.1.q_proj", "q_proj")).toBe(false);
    expect(matchesTarget("transformer.h.0.attn.xc_attn", ["c_attn"])).toBe(false);
    expect(matchesTarget("a", "(")).toBe(false);
  });
  it("all-linear, exclude_modules and layers_to_transform", () => {
    const cfg = { target_modules: "all-linear", exclude_modules: ["k"], layers_to_transform: [1], layers_pattern: "h" };
    expect(isTargetModule("t.h.1.q", cfg)).toBe(true);
    expect(isTargetModule("t.h.1.k", cfg)).toBe(false);
    expect(isTargetModule("t.h.2.q", cfg)).toBe(false);
    expect(isTargetModule("lm_head", { target_modules: "all-linear" }, true)).toBe(false);
  });
  it("a modules_to_save entry owns every parameter below it", () => {
    expect(savedModuleOf("classifier.out_proj.weight", ["classifier"])).toBe("classifier");
    expect(savedModuleOf("score.weight", ["classifier"])).toBeNull();
  });
});

describe("PEFT keys: every form PEFT writes and loads", () => {
  it.each([
    ["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", "lora_A", undefined],
    ["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", "lora_B", undefined],
    ["base_model.model.transformer.h.0.attn.c_attn.lora_A.default.weight", "lora_A", "default"],
    ["transformer.h.0.attn.c_attn.lora_B.my_task.weight", "lora_B", "my_task"],
    ["base_model.model.transformer.h.0.attn.c_attn.lora_B.bias", "lora_B.bias", undefined],
    ["base_model.model.transformer.h.0.attn.c_attn.lora_B.default.bias", "lora_B.bias", "default"],
    ["base_model.model.transformer.h.0.attn.c_attn.lora_embedding_A", "lora_embedding_A", undefined],
    ["base_model.model.transformer.h.0.attn.c_attn.lora_embedding_B.default", "lora_embedding_B", "default"],
  ])("%s", (key, part, adapter) => {
    const parsed = parsePeftKey(key);
    expect(parsed).toEqual({ module: "transformer.h.0.attn.c_attn", part, ...(adapter ? { adapter } : {}) });
    if (!adapter && key.startsWith("base_model.model."))
      expect(peftKey(parsed?.module as string, parsed?.part as never)).toBe(key);
  });
  it.each([
    "base_model.model.transformer.h.0.attn.c_attn.lora_A.bias",
    "base_model.model.transformer.h.0.attn.c_attn.weight",
    "base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector.default.weight",
    "lora_A.weight",
  ])("%s is not a LoRA factor", (key) => {
    expect(parsePeftKey(key)).toBeNull();
  });
});
