import { factorMismatch } from "@lowrank/formats";
import type { LinearModule } from "./types.js";

/**
 * Why LoRA factors `A` [r, in] and `B` [out, r] (PEFT layouts) do not fit one linear module of a
 * loaded base, or undefined when they fit: formats' one per-module check (`factorMismatch`, which
 * `checkModuleAgainstBase` uses against a manifest), plus r ≥ 1. The message names the module and
 * both shapes.
 */
export function linearFitProblem(
  module: string,
  m: Pick<LinearModule, "layout" | "inFeatures" | "outFeatures">,
  A: readonly number[],
  B: readonly number[],
): string | undefined {
  const conv1d = m.layout === "in_out";
  const target = {
    layout: conv1d ? ("conv1d" as const) : ("linear" as const),
    inFeatures: m.inFeatures,
    outFeatures: m.outFeatures,
    shape: conv1d ? [m.inFeatures, m.outFeatures] : [m.outFeatures, m.inFeatures],
  };
  const problem = factorMismatch(module, target, { kind: "lora", A, B });
  if (problem) return problem.message;
  if (!((A[0] ?? 0) > 0)) return `module ${module}: expected rank r >= 1, found lora_A [${A}] and lora_B [${B}]`;
  return undefined;
}
