/**
 * Results of a pure function of a long text, remembered for the texts seen last. Real prompts repeat:
 * an app sends the same system prompt with every request, and a chat resends every earlier turn with
 * each new one. Reading a 3 KB prompt for its category cues and token estimate cost ≈ 60 µs a request,
 * several times the rest of the gateway's work; looking it up costs a hash of the text and, on a hit, one
 * comparison. Short texts are computed every time (cheaper than the lookup).
 *
 * Bounded by entries and by the characters held (the keys are the texts themselves, kept in memory only,
 * never written anywhere); the least recently used go first. Results are shared: callers must not
 * change them.
 */
const memos: { clear(): void }[] = [];

/** Forgets every remembered text: the routing bench times the first sight of a prompt with it. */
export function forgetTexts(): void {
  for (const memo of memos) memo.clear();
}

export class TextMemo<T> {
  readonly #compute: (text: string) => T;
  readonly #minLength: number;
  readonly #maxEntries: number;
  readonly #maxChars: number;
  /** Insertion order is recency order: a hit is moved to the end. */
  readonly #entries = new Map<string, T>();
  #chars = 0;

  constructor(
    compute: (text: string) => T,
    options: { minLength?: number; maxEntries?: number; maxChars?: number } = {},
  ) {
    this.#compute = compute;
    this.#minLength = options.minLength ?? 512;
    this.#maxEntries = options.maxEntries ?? 256;
    this.#maxChars = options.maxChars ?? 2_000_000;
    memos.push(this);
  }

  clear(): void {
    this.#entries.clear();
    this.#chars = 0;
  }

  get(text: string): T {
    if (text.length < this.#minLength || text.length > this.#maxChars) return this.#compute(text);
    const entries = this.#entries;
    const known = entries.get(text);
    if (known !== undefined) {
      entries.delete(text);
      entries.set(text, known);
      return known;
    }
    const value = this.#compute(text);
    entries.set(text, value);
    this.#chars += text.length;
    while (entries.size > this.#maxEntries || this.#chars > this.#maxChars) {
      const oldest = entries.keys().next().value as string;
      entries.delete(oldest);
      this.#chars -= oldest.length;
    }
    return value;
  }

  /** Texts remembered now (for tests). */
  get size(): number {
    return this.#entries.size;
  }
}
