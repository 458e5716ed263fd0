/**
 * Prompt and answer text, bounded before it is kept: a request body may be megabytes (a long chat, an
 * image as a data URL), and a record must stay small enough to buffer while the database is away. The
 * value keeps its shape; strings share one character budget, images sent inline are replaced by a note.
 */

/** Characters of text one record keeps, prompt and answers together. */
export const CONTENT_BUDGET = 64 * 1024;
const MAX_ITEMS = 500;
const MAX_DEPTH = 16;
const DATA_URL = /^data:[^,]{0,200},/;

export class Clipper {
  private left: number;
  truncated = false;

  constructor(budget = CONTENT_BUDGET) {
    this.left = budget;
  }

  /** `text` within what is left of the budget (marked with `…` when cut). */
  text(text: string): string {
    if (text.length > 256 && DATA_URL.test(text)) {
      this.truncated = true;
      return `[${text.slice(5, text.indexOf(',')).split(';')[0]} data, ${text.length} characters, not kept]`;
    }
    if (text.length <= this.left) {
      this.left -= text.length;
      return text;
    }
    this.truncated = true;
    const kept = text.slice(0, Math.max(0, this.left));
    this.left = 0;
    return `${kept}…`;
  }

  /** A JSON-like value with every string clipped, long arrays and deep nesting cut. */
  value(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) {
      this.truncated = true;
      return null;
    }
    if (Array.isArray(value)) {
      if (value.length > MAX_ITEMS) this.truncated = true;
      return value.slice(0, MAX_ITEMS).map((v) => this.value(v, depth + 1));
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.value(v, depth + 1);
    return out;
  }
}
