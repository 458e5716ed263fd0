/**
 * Results of a pure function of a long text, remembered for the texts seen last. Real prompts repeat:
 * an app sends the same system prompt with every request, and a chat resends every earlier turn with
 * each new one. Reading a 3 KB prompt for its category cues and token estimate cost ≈ 60 µs a request,
 * several times the rest of the gateway's work; looking it up costs a key of 80 characters and, on a
 * hit, one comparison. Short texts are computed every time (cheaper than the lookup).
 *
 * Bounded by entries and by the characters held (the texts themselves, kept in memory only, never
 * written anywhere); the least recently used go first. Results are shared: callers must not change
 * them.
 */
const memos: { clear(): void }[] = [];

/** Forgets every remembered text: the routing bench times the first sight of a prompt with it. */
export function forgetTexts(): void {
  for (const memo of memos) memo.clear();
}

/**
 * The key a text is filed under: its length and 80 of its characters (every n/64th, and the last 16).
 * Cheap whatever the length (V8 hashing a fresh 3 KB string for a Map costs ≈ 30k instructions); texts
 * that share a key are told apart by comparing them, so a shared key costs a computation, never a
 * wrong answer.
 */
function keyOf(text: string): number {
  const n = text.length;
  let h = n;
  const step = n > 64 ? Math.floor(n / 64) : 1;
  for (let i = 0; i < n; i += step) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  for (let i = n > 16 ? n - 16 : 0; i < n; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

interface Entry<T> {
  text: string;
  value: T;
}

export class TextMemo<T> {
  readonly #compute: (text: string) => T;
  readonly #minLength: number;
  readonly #maxEntries: number;
  readonly #maxChars: number;
  /** By key; insertion order is recency order (a hit is moved to the end). */
  readonly #entries = new Map<number, Entry<T>[]>();
  #count = 0;
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
    this.#count = 0;
    this.#chars = 0;
  }

  get(text: string): T {
    if (text.length < this.#minLength || text.length > this.#maxChars) return this.#compute(text);
    const entries = this.#entries;
    const key = keyOf(text);
    const bucket = entries.get(key);
    if (bucket !== undefined) {
      entries.delete(key);
      entries.set(key, bucket);
      for (const entry of bucket) if (entry.text === text) return entry.value;
    }
    const value = this.#compute(text);
    if (bucket !== undefined) bucket.push({ text, value });
    else entries.set(key, [{ text, value }]);
    this.#count++;
    this.#chars += text.length;
    while (this.#count > this.#maxEntries || this.#chars > this.#maxChars) {
      const [oldest, dropped] = entries.entries().next().value as [number, Entry<T>[]];
      entries.delete(oldest);
      this.#count -= dropped.length;
      for (const entry of dropped) this.#chars -= entry.text.length;
    }
    return value;
  }

  /** Texts remembered now (for tests). */
  get size(): number {
    return this.#count;
  }
}
