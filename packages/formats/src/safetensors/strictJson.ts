import { FormatError, type FormatErrorCode } from "../errors.js";

/** A number written with a fraction or an exponent (never a valid size or offset). */
export class JsonFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return String(this.value);
  }
}

/**
 * JSON values as the header parser sees them: an integer literal is a `number` when it is at most
 * 2^53-1 and a `bigint` above (so 2^64-1 survives exactly); numbers with a fraction or exponent are
 * `JsonFloat`; objects are `Map`s in document order.
 */
export type JsonValue = null | boolean | number | bigint | JsonFloat | string | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

/** serde_json's default recursion limit; also keeps `[[[[...` from overflowing the JS stack. */
const MAX_DEPTH = 128;

/**
 * A strict RFC 8259 parser for safetensors headers. Unlike `JSON.parse` it keeps large integers
 * exact, refuses lone surrogate escapes (as serde_json does), and reports duplicate keys instead of
 * silently keeping the last: a duplicate top-level key is `DuplicateTensor`, one inside
 * `__metadata__` is `InvalidMetadata`, any other is `InvalidHeaderDeserialization`.
 * The top-level value must be an object (`InvalidHeaderStart` otherwise); whitespace around it is
 * allowed, as the reference allows.
 */
export function parseHeaderJson(text: string): JsonObject {
  const p = new Parser(text);
  p.skipWs();
  if (p.pos >= text.length) p.fail("InvalidHeaderDeserialization", "a JSON object", "an empty header");
  if (text.charCodeAt(p.pos) !== 0x7b) {
    p.fail("InvalidHeaderStart", "the header to start with '{'", describe(text, p.pos));
  }
  const value = p.value(0, "") as JsonObject;
  p.skipWs();
  if (p.pos < text.length) p.fail("InvalidHeaderDeserialization", "end of header", describe(text, p.pos));
  return value;
}

function describe(text: string, pos: number): string {
  if (pos >= text.length) return "end of header";
  return `${JSON.stringify(text.slice(pos, pos + 16))} at character ${pos}`;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(code: FormatErrorCode, expected: string, found: string): never {
    throw new FormatError(code, `safetensors header JSON: expected ${expected}, found ${found}`);
  }

  skipWs(): void {
    const t = this.text;
    let c = t.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++this.pos);
  }

  /** `topKey` is the top-level key whose value is being parsed (for duplicate-key codes). */
  value(depth: number, topKey: string): JsonValue {
    if (depth >= MAX_DEPTH)
      this.fail("InvalidHeaderDeserialization", `nesting under ${MAX_DEPTH} levels`, "deeper nesting");
    this.skipWs();
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === 0x7b) return this.object(depth, topKey);
    if (c === 0x5b) return this.array(depth, topKey);
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    for (const [word, v] of LITERALS) {
      if (t.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail("InvalidHeaderDeserialization", "a JSON value", describe(t, this.pos));
  }

  object(depth: number, topKey: string): JsonObject {
    const out: JsonObject = new Map();
    this.pos++; // {
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 0x22)
        this.fail("InvalidHeaderDeserialization", "a key string", describe(this.text, this.pos));
      const key = this.string();
      this.skipWs();
      if (this.text.charCodeAt(this.pos) !== 0x3a)
        this.fail("InvalidHeaderDeserialization", "':'", describe(this.text, this.pos));
      this.pos++;
      const value = this.value(depth + 1, depth === 0 ? key : topKey);
      if (out.has(key)) {
        const code: FormatErrorCode =
          depth === 0
            ? "DuplicateTensor"
            : depth === 1 && topKey === "__metadata__"
              ? "InvalidMetadata"
              : "InvalidHeaderDeserialization";
        const where = depth === 0 ? "the header" : `the entry of ${JSON.stringify(topKey)}`;
        throw new FormatError(
          code,
          `safetensors header JSON: expected unique keys in ${where}, found ${JSON.stringify(key)} twice`,
        );
      }
      out.set(key, value);
      this.skipWs();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("InvalidHeaderDeserialization", "',' or '}'", describe(this.text, this.pos));
      }
    }
  }

  array(depth: number, topKey: string): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    this.skipWs();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1, topKey));
      this.skipWs();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("InvalidHeaderDeserialization", "',' or ']'", describe(this.text, this.pos));
      }
    }
  }

  number(): number | bigint | JsonFloat {
    // Fast path for what headers are made of: a non-negative integer of at most 15 digits (exact as a
    // double), no leading zero, not followed by a fraction or exponent. Anything else takes the regex.
    const t = this.text;
    let i = this.pos;
    let v = 0;
    for (let c = t.charCodeAt(i); c >= 0x30 && c <= 0x39; c = t.charCodeAt(++i)) v = v * 10 + (c - 0x30);
    const digits = i - this.pos;
    const next = t.charCodeAt(i);
    if (
      digits > 0 &&
      digits <= 15 &&
      (digits === 1 || t.charCodeAt(this.pos) !== 0x30) &&
      next !== 0x2e &&
      next !== 0x65 &&
      next !== 0x45
    ) {
      this.pos = i;
      return v;
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) return this.fail("InvalidHeaderDeserialization", "a number", describe(this.text, this.pos));
    this.pos = NUMBER.lastIndex;
    const literal = m[0];
    if (m[1] === undefined && m[2] === undefined && literal !== "-0") {
      if (literal.length <= 15) return Number(literal); // < 10^15 < 2^53: exact
      const big = BigInt(literal);
      return big <= MAX_SAFE ? Number(big) : big;
    }
    const value = Number(literal);
    if (!Number.isFinite(value)) this.fail("InvalidHeaderDeserialization", "a number in float64 range", literal);
    return new JsonFloat(value);
  }

  string(): string {
    const t = this.text;
    const start = ++this.pos; // opening quote
    // Fast path: no escapes.
    for (let i = start; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return t.slice(start, i);
      }
      if (c === 0x5c) break;
      if (c < 0x20)
        this.fail("InvalidHeaderDeserialization", "no control characters in strings", `U+${hex4(c)} at character ${i}`);
    }
    return this.escapedString(start);
  }

  private escapedString(start: number): string {
    const t = this.text;
    let out = "";
    let i = start;
    let chunk = start;
    for (;;) {
      if (i >= t.length) this.fail("InvalidHeaderDeserialization", "a closing '\"'", "end of header");
      const c = t.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return out + t.slice(chunk, i);
      }
      if (c < 0x20)
        this.fail("InvalidHeaderDeserialization", "no control characters in strings", `U+${hex4(c)} at character ${i}`);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += t.slice(chunk, i);
      const e = t[i + 1];
      const simple = e === undefined ? undefined : ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === "u") {
        const unit = this.hexUnit(i + 2);
        i += 6;
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const low = t.startsWith("\\u", i) ? this.hexUnit(i + 2) : -1;
          if (low < 0xdc00 || low > 0xdfff)
            this.fail("InvalidHeaderDeserialization", "a low surrogate after a high surrogate escape", describe(t, i));
          out += String.fromCharCode(unit, low);
          i += 6;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          this.fail("InvalidHeaderDeserialization", "no lone low surrogate escape", describe(t, i - 6));
        } else {
          out += String.fromCharCode(unit);
        }
      } else {
        this.fail("InvalidHeaderDeserialization", "a valid escape", describe(t, i));
      }
      chunk = i;
    }
  }

  private hexUnit(at: number): number {
    const h = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h))
      this.fail("InvalidHeaderDeserialization", "4 hex digits after \\u", JSON.stringify(h));
    return Number.parseInt(h, 16);
  }
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, "0");
}

const LITERALS: ReadonlyArray<readonly [string, JsonValue]> = [
  ["true", true],
  ["false", false],
  ["null", null],
];

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};
