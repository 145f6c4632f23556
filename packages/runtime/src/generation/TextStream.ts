/**
 * Turns generated tokens into text deltas for streaming, and applies stop sequences: text that could be
 * the start of a stop sequence (or an incomplete UTF-8 character) is held back until the next token
 * settles it; on a match the text ends just before the stop sequence, which is not returned.
 */
export class TextStream {
  private readonly tokens: number[] = [];
  private emitted = 0;
  private final: string | undefined;

  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private readonly stops: readonly string[] = [],
  ) {}

  /** Adds a token: the new text that is safe to send, and whether a stop sequence matched. */
  push(token: number): { delta: string; stopped: boolean } {
    if (this.final !== undefined) return { delta: "", stopped: true };
    this.tokens.push(token);
    const text = this.decode(this.tokens);
    let cut = -1;
    for (const s of this.stops) {
      // Only text not yet sent can hold a new match: search from just before it.
      const at = text.indexOf(s, Math.max(0, this.emitted - s.length + 1));
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.final = text.slice(0, cut);
      return { delta: this.take(this.final, this.final.length), stopped: true };
    }
    let safe = text.length;
    while (safe > this.emitted && text.charCodeAt(safe - 1) === 0xfffd) safe--;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, safe - this.emitted); k > 0; k--) {
        if (text.endsWith(s.slice(0, k), safe)) {
          safe -= k;
          break;
        }
      }
    }
    return { delta: this.take(text, safe), stopped: false };
  }

  /** The rest of the text once generation ended (held-back text included unless a stop matched). */
  finish(): string {
    const text = this.final ?? this.decode(this.tokens);
    this.final = text;
    return this.take(text, text.length);
  }

  /** All text so far (final once finished). */
  get text(): string {
    return this.final ?? this.decode(this.tokens);
  }

  private take(text: string, upTo: number): string {
    if (upTo <= this.emitted) return "";
    const delta = text.slice(this.emitted, upTo);
    this.emitted = upTo;
    return delta;
  }
}
