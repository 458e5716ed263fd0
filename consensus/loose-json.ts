/**
 * Tolerant JSON for model replies: judges and reviewers are asked for JSON and mostly comply, but wrap it
 * in prose or a code fence, use single quotes, leave trailing commas, skip key quotes or write Python's
 * True/None. This is a small recursive-descent reader of that superset; it never evaluates anything.
 */

/** Parse one loose-JSON value that spans all of `text` (surrounding whitespace allowed). */
export function parseLooseJson(text: string): unknown {
  const p = new Reader(text);
  try {
    const value = p.value();
    p.space();
    return p.done() ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every object found in a reply, in order: each outermost balanced `{…}` region that parses. Prose and
 * code fences around the JSON do not matter; unparseable regions are skipped.
 */
export function findJsonObjects(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  // Verdicts are short; a runaway reply is read from its last 64K characters, where the JSON ends up.
  for (const region of braceRegions(text.slice(-65_536))) {
    const value = parseLooseJson(region);
    if (value && typeof value === 'object' && !Array.isArray(value))
      out.push(value as Record<string, unknown>);
  }
  return out;
}

// Outermost balanced {…} regions; braces inside double-quoted strings do not count. Single quotes are not
// tracked because prose apostrophes ("it's") would derail the scan. A stray '{' in prose never closes, so
// the scan restarts after it (a few times at most: "{{{{…" must not turn quadratic).
function braceRegions(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let restarts = 0; restarts < 8 && from < text.length; restarts++) {
    let depth = 0;
    let start = -1;
    let inString = false;
    for (let i = from; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"' && depth > 0) inString = true;
      else if (c === '{') {
        if (depth++ === 0) start = i;
      } else if (c === '}' && depth > 0 && --depth === 0) out.push(text.slice(start, i + 1));
    }
    if (depth === 0) break;
    from = start + 1;
  }
  return out;
}

class Reader {
  private i = 0;
  private readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  done(): boolean {
    return this.i >= this.s.length;
  }

  space(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
      if (this.s.startsWith('//', this.i)) {
        const nl = this.s.indexOf('\n', this.i);
        this.i = nl < 0 ? this.s.length : nl;
      } else if (this.s.startsWith('/*', this.i)) {
        const end = this.s.indexOf('*/', this.i + 2);
        this.i = end < 0 ? this.s.length : end + 2;
      } else return;
    }
  }

  value(): unknown {
    this.space();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"' || c === "'") return this.string();
    const num = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/i.exec(this.s.slice(this.i, this.i + 64));
    if (num) {
      this.i += num[0].length;
      return Number(num[0]);
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(this.s.slice(this.i, this.i + 64));
    if (word) {
      this.i += word[0].length;
      const literal = LITERALS[word[0]];
      if (literal === undefined && !(word[0] in LITERALS)) throw new Error(`unexpected ${word[0]}`);
      return literal;
    }
    throw new Error(`unexpected ${c}`);
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const key = this.key();
      this.space();
      if (this.s[this.i] !== ':' && this.s[this.i] !== '=') throw new Error('expected :');
      this.i++;
      // As JSON.parse does: `__proto__` is an own property like any other, never the object's prototype.
      Object.defineProperty(out, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new Error('expected , or }');
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === ']') {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== ']') throw new Error('expected , or ]');
    }
  }

  private key(): string {
    const c = this.s[this.i];
    if (c === '"' || c === "'") return this.string();
    const word = /^[^\s:=,{}[\]"']+/.exec(this.s.slice(this.i, this.i + 256));
    if (!word) throw new Error('expected key');
    this.i += word[0].length;
    return word[0];
  }

  private string(): string {
    const quote = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++] ?? '';
      if (e === 'u' && /^[0-9a-f]{4}$/i.test(this.s.slice(this.i, this.i + 4))) {
        out += String.fromCharCode(Number.parseInt(this.s.slice(this.i, this.i + 4), 16));
        this.i += 4;
      } else out += ESCAPES[e] ?? e;
    }
    throw new Error('unterminated string');
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };
const LITERALS: Record<string, unknown> = {
  true: true,
  false: false,
  null: null,
  True: true,
  False: false,
  None: null,
};
