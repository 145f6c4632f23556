import { Option } from "commander";
import { CliError, EXIT_USAGE } from "./errors.js";

/**
 * The CLI's one parser for option values. Every rejected value is a usage error (exit 2) with a
 * one-line reason in one style: `--flag: expected ..., found "value"`.
 */
export function invalidOption(flag: string, expected: string, found: string): CliError {
  const shown = found.length > 40 ? `${found.slice(0, 40)}...` : found;
  return new CliError(`${flag}: expected ${expected}, found ${JSON.stringify(shown)}`, "InvalidOption", EXIT_USAGE);
}

export interface NumberSpec {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest value accepted (inclusive). */
  min?: number;
  /** Accept only values above `min` (for rates and scales where 0 makes no sense). */
  aboveMin?: boolean;
  /** Largest value accepted (inclusive). */
  max?: number;
}

function describe(spec: NumberSpec): string {
  const what = spec.integer ? "an integer" : "a number";
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `${what} from ${min} to ${max}`;
  if (min !== undefined) return `${what} ${spec.aboveMin ? ">" : ">="} ${min}`;
  if (max !== undefined) return `${what} <= ${max}`;
  return what;
}

/** Parses one number for `flag`, or throws the usage error. */
export function parseNumber(flag: string, value: string, spec: NumberSpec = {}): number {
  const text = value.trim();
  const n = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
  const ok =
    Number.isFinite(n) &&
    (!spec.integer || Number.isSafeInteger(n)) &&
    (spec.min === undefined || (spec.aboveMin ? n > spec.min : n >= spec.min)) &&
    (spec.max === undefined || n <= spec.max);
  if (!ok) throw invalidOption(flag, describe(spec), value);
  return n;
}

/** Commander parser for comma-separated numbers (`1,2,3`) for `flag`, each checked as {@link parseNumber} does. */
export function numberList(flag: string, spec: NumberSpec = {}) {
  return (value: string): number[] => {
    const what = spec.integer ? "comma-separated integers such as 1,2,3" : "comma-separated numbers such as 0.5,-1,2";
    try {
      return value.split(",").map((part) => parseNumber(flag, part, spec));
    } catch {
      throw invalidOption(flag, what, value);
    }
  };
}

function longFlag(flags: string): string {
  const long = /--[\w-]+/.exec(flags)?.[0];
  if (!long) throw new CliError(`option flags: expected a long name (--name), found ${flags}`, "Internal");
  return long;
}

/** A commander option whose value goes through {@link parseNumber}. */
export function numberOption(flags: string, description: string, spec: NumberSpec, fallback?: number): Option {
  const flag = longFlag(flags);
  const option = new Option(flags, description).argParser((v: string) => parseNumber(flag, v, spec));
  return fallback === undefined ? option : option.default(fallback);
}

/** A commander option that accepts one of `choices`, with the same usage error as numbers. */
export function choiceOption<T extends string>(
  flags: string,
  description: string,
  choices: readonly T[],
  fallback?: T,
): Option {
  const flag = longFlag(flags);
  const option = new Option(flags, `${description} (${choices.join(", ")})`).argParser((v: string): T => {
    if ((choices as readonly string[]).includes(v)) return v as T;
    throw invalidOption(flag, `one of ${choices.join(", ")}`, v);
  });
  return fallback === undefined ? option : option.default(fallback);
}

export const BACKENDS = ["auto", "wasm", "cpu", "tensorflow", "webgpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

/** `--backend`, the same in every command. */
export function backendOption(fallback: BackendName = "auto"): Option {
  return choiceOption("--backend <name>", "tfjs backend", BACKENDS, fallback);
}

/** Comma-separated list of names (`q_proj,v_proj`): no empty entries. */
export function parseNameList(flag: string, value: string): string[] {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.some((p) => p === "")) throw invalidOption(flag, "comma-separated names such as q_proj,v_proj", value);
  return parts;
}
