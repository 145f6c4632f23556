// PEFT's module-matching rules live once, in @lowrank/formats; core re-exports them under its names.
export {
  isTargetModule,
  layerIndexOf,
  matchesTarget as matchesModuleList,
  patternKeyFor,
  peftParameterName,
  /** Rank and alpha for one module, after `rank_pattern` and `alpha_pattern` (PEFT's `get_pattern_key`). */
  rankAndAlpha as rankAndAlphaFor,
  savedModuleOf,
} from "@lowrank/formats";
