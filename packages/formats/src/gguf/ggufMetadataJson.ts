import type { GgufArrayItem, GgufValue } from "./types.js";

function item(v: GgufArrayItem, maxArray: number): unknown {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "object") return arrayJson(v.value, v.itemType, maxArray);
  return v;
}

function arrayJson(items: readonly GgufArrayItem[], itemType: string, maxArray: number): unknown {
  if (items.length <= maxArray) return items.map((v) => item(v, maxArray));
  return {
    type: `array[${itemType}]`,
    length: items.length,
    first: items.slice(0, maxArray).map((v) => item(v, maxArray)),
  };
}

/**
 * Metadata as plain JSON. 64-bit integers (`u64`, `i64`, in arrays too) are always decimal strings,
 * whatever their size, so they are exact and have one form (`BigInt(s)` gives the value back); every
 * other number is a JSON number. Arrays longer than `maxArray` become `{type, length, first}` so a
 * 32000-token vocabulary stays short.
 */
export function ggufMetadataToJson(
  metadata: ReadonlyMap<string, GgufValue>,
  options: { maxArray?: number } = {},
): Record<string, unknown> {
  const maxArray = options.maxArray ?? 16;
  const out: Record<string, unknown> = {};
  for (const [key, v] of metadata) {
    out[key] = v.type === "array" ? arrayJson(v.value, v.itemType, maxArray) : item(v.value, maxArray);
  }
  return out;
}
