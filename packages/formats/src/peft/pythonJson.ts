/**
 * JSON laid out as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it (how PEFT writes
 * `adapter_config.json`): keys sorted by code point at every level, `", "`-free separators with a
 * two-space indent, every non-ASCII or control character escaped as `\uXXXX`, floats in Python's
 * `repr` (`0.0`, `1e-05`, `1e+16`). JavaScript numbers do not say whether they were floats, so the
 * caller names the paths (`/lora_dropout`, `/alpha_pattern/q`) whose integral values are floats.
 */
export function pythonJsonDumps(value: unknown, floatPaths: ReadonlySet<string> = new Set()): string {
  return dump(value, "", "", floatPaths);
}

/** A JSON pointer segment (RFC 6901). */
export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, "~0").replace(/\//g, "~1");
}

function dump(v: unknown, path: string, indent: string, floats: ReadonlySet<string>): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return pythonNumber(v, floats.has(path));
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return pythonString(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    const items = v.map((x, i) => inner + dump(x, `${path}/${i}`, inner, floats));
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  if (typeof v === "object") {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    if (keys.length === 0) return "{}";
    keys.sort(compareCodePoints);
    const items = keys.map(
      (k) =>
        `${inner}${pythonString(k)}: ${dump((v as Record<string, unknown>)[k], `${path}/${pointerSegment(k)}`, inner, floats)}`,
    );
    return `{\n${items.join(",\n")}\n${indent}}`;
  }
  return pythonString(String(v));
}

function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** Python's `ensure_ascii` string: printable ASCII as is, everything else escaped (UTF-16 units, lowercase hex). */
export function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = s.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/**
 * A number as Python prints it: an int for integral values unless `isFloat`; otherwise `repr(float)`,
 * which uses the same shortest round-trip digits as JavaScript but switches to exponent notation
 * below 1e-4 and from 1e16, and always shows a fraction or an exponent.
 */
export function pythonNumber(n: number, isFloat: boolean): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(n) && !isFloat) return Object.is(n, -0) ? "0" : BigInt(n).toString();
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = n.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = mantissa;
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const fixed = fixedFromExponential(mantissa, exp);
  return fixed.includes(".") ? fixed : `${fixed}.0`;
}

function fixedFromExponential(mantissa: string, exp: number): string {
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let out: string;
  if (exp < 0) out = `0.${"0".repeat(-exp - 1)}${digits}`;
  else if (digits.length <= exp + 1) out = digits + "0".repeat(exp + 1 - digits.length);
  else out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return negative ? `-${out}` : out;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

/**
 * The JSON pointers of every number in `text` written with a fraction or an exponent, so writing
 * the value back can keep `0.0` a float. `text` must already be valid JSON (parse it first).
 */
export function floatPathsOf(text: string): Set<string> {
  const out = new Set<string>();
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        ws();
        let seg = String(n);
        if (c === "{") {
          seg = pointerSegment(str());
          ws();
          i++; // ':'
        }
        value(`${path}/${seg}`);
        ws();
        if (text[i++] === close) return;
      }
    }
    if (c === '"') {
      str();
      return;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      if (m[1] !== undefined || m[2] !== undefined) out.add(path);
      i = NUMBER.lastIndex;
      return;
    }
    LITERAL.lastIndex = i;
    if (LITERAL.exec(text)) i = LITERAL.lastIndex;
    else i = text.length; // not reached for valid JSON
  };
  value("");
  return out;
}
