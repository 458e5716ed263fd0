import {
  ARITHMETIC,
  ARITHMETIC_RE,
  CLAUSE,
  CONSTRAINT,
  ERROR_NAME,
  EXTENSION_CUE,
  FENCE,
  FILE_EXTENSIONS,
  FILE_NAME,
  FILE_NAME_RE,
  HARD,
  HARD_LENGTH_RE,
  IDENTIFIER,
  LATEX,
  LATEX_RE,
  LIST_ITEM_RE,
  MATH_SYMBOL,
  MATH_SYMBOLS,
  NON_LATIN,
  OPERATOR,
  QUANTITY,
  SIGNAL_COUNT,
  TRACE,
  TRACE_CUE,
  TRACE_RE,
  WORD_COUNT,
  WORD_SIGNALS,
} from './signals.ts';

/**
 * One pass over a text that counts every signal in signals.ts. The text is split into words (maximal
 * runs of ASCII letters, digits and `_`, exactly what `\b` and `\w` see); each word is hashed as it is
 * read, so a word-list lookup is one probe of a small open-addressing table, with no string made. A
 * matched entry lists the phrases that start with that word, per signal, in the order the pattern
 * alternation lists them; a phrase's next words and the separators between them are compared in place.
 * Each signal remembers where its last match ended, as a global regex does, so the counts are exactly
 * the matches `\b(list)\b` (flags gi) would find. The same pass counts the shapes (operators, fences,
 * identifiers, symbols, commas…), and notes the few cues under which a structural regex can match at
 * all, so those regexes run only on text that can match them.
 */

// ------------------------------------------------------------------------------------- character classes

/** ASCII `\w`. */
const WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  WORD[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 ? 1 : 0;
}
const isWord = (c: number) => c < 128 && WORD[c] === 1;
/** ASCII lower case only, as the `i` flag without `u` sees word characters. */
const lowerCode = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
const isLineEnd = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
/** JavaScript `\s`. */
function isSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}
/**
 * A letter of a script the word lists cannot read: U+0370 and above, outside the punctuation, symbol
 * and surrogate ranges and the one space among them (U+1680); π counts as a math symbol instead.
 * NON_LATIN_RE in signals.ts says the same as a regex.
 */
const isNonLatin = (c: number) =>
  (c >= 0x370 && c < 0x2000 && c !== 0x1680) ||
  (c >= 0x2c00 && c < 0x3000) ||
  (c >= 0x3040 && c < 0xd800) ||
  (c >= 0xf900 && c < 0xfe00);
const SYMBOLS = new Set<number>();
for (let i = 0; i < MATH_SYMBOLS.length; i++) SYMBOLS.add(MATH_SYMBOLS.charCodeAt(i));

/** `text` at `pos` equals `word` (lower case) ignoring ASCII case. */
function eqLower(text: string, pos: number, word: string): boolean {
  if (pos < 0 || pos + word.length > text.length) return false;
  for (let j = 0; j < word.length; j++) {
    if (lowerCode(text.charCodeAt(pos + j)) !== word.charCodeAt(j)) return false;
  }
  return true;
}

/** The hash the scan computes for a word as it reads it (see there). */
function hashWord(word: string): number {
  let h = 0;
  for (let j = 0; j < word.length; j++) h = (Math.imul(h, 31) + (word.charCodeAt(j) | 32)) | 0;
  return h;
}

// ------------------------------------------------------------------------------------------ the scan state

/**
 * Words of the text being scanned: start, end (exclusive), hash of the lower-cased word, and the AND of
 * its character codes (bit 0x20 clear: the word has an upper-case letter or `_`, so may be an identifier).
 */
let starts = new Int32Array(1024);
let ends = new Int32Array(1024);
let hashes = new Int32Array(1024);
let shapes = new Uint8Array(1024);
const LOWER_BIT = 0x20;
let wordCount = 0;
/** Per signal, where its last match ended: the next one starts at or after it. */
const consumed = new Int32Array(SIGNAL_COUNT);
/** Start of the `[\w-]+` run before the first `.ext` (file-name regex starts there), or -1. */
let extensionRun = -1;

// --------------------------------------------------------------------------------- word-list compilation

/** A phrase that can start at a word: its words, the exact separators between them, and extras. */
interface Phrase {
  signal: number;
  /** Lower case (the lookup is case-insensitive); `exact` holds them as written when case matters. */
  words: string[];
  exact: string[] | null;
  hashes: number[];
  seps: string[];
  /** Non-word characters after the last word, which `\b` then requires a word right after. */
  trailing: string;
  /** A negative lookahead, compared ignoring case. */
  notFollowedBy: string;
  /** A match decided in code instead: returns where it ends, or -1. */
  test: ((text: string, w: number) => number) | null;
}

interface Prefix {
  signal: number;
  prefix: string;
  minLength: number;
  test: ((text: string, w: number) => number) | null;
}

type Node =
  | { kind: 'chars'; chars: string[]; optional: boolean }
  | { kind: 'group'; alts: Node[][]; optional: boolean }
  | { kind: 'prefix'; min: number }
  | { kind: 'not'; text: string };

/** Parses the small pattern syntax signals.ts writes word lists in. */
function parse(pattern: string): Node[][] {
  let i = 0;
  const alts = (): Node[][] => {
    const out: Node[][] = [[]];
    while (i < pattern.length && pattern[i] !== ')') {
      const ch = pattern[i++]!;
      const seq = out[out.length - 1]!;
      let node: Node;
      if (ch === '|') {
        out.push([]);
        continue;
      } else if (ch === '(' && pattern.startsWith('?!', i)) {
        const close = pattern.indexOf(')', i);
        node = { kind: 'not', text: pattern.slice(i + 2, close) };
        i = close + 1;
      } else if (ch === '(') {
        node = { kind: 'group', alts: alts(), optional: false };
        i++; // ')'
      } else if (ch === '[') {
        const close = pattern.indexOf(']', i);
        node = { kind: 'chars', chars: [...pattern.slice(i, close)], optional: false };
        i = close + 1;
      } else if (ch === '\\') {
        const e = pattern[i++]!;
        if (e === 'w') {
          node = { kind: 'prefix', min: pattern[i++] === '+' ? 1 : 0 };
        } else if (e === 'd') node = { kind: 'chars', chars: [...'0123456789'], optional: false };
        else node = { kind: 'chars', chars: [e], optional: false };
      } else node = { kind: 'chars', chars: [ch], optional: false };
      if (pattern[i] === '?' && (node.kind === 'chars' || node.kind === 'group')) {
        node.optional = true;
        i++;
      }
      seq.push(node);
    }
    return out;
  };
  const out = alts();
  if (i !== pattern.length) throw new Error(`word pattern: unexpected ')' in ${pattern}`);
  return out;
}

interface Expansion {
  text: string;
  prefixMin: number;
  notFollowedBy: string;
}

/** Every string a sequence matches, in the order a backtracking regex tries them (greedy `?`). */
function expandSeq(seq: Node[]): Expansion[] {
  let out: Expansion[] = [{ text: '', prefixMin: -1, notFollowedBy: '' }];
  for (const node of seq) {
    if (node.kind === 'prefix') {
      out = out.map((x) => ({ ...x, prefixMin: node.min }));
      continue;
    }
    if (node.kind === 'not') {
      out = out.map((x) => ({ ...x, notFollowedBy: node.text.toLowerCase() }));
      continue;
    }
    const options =
      node.kind === 'chars' ? [...node.chars] : node.alts.flatMap((a) => expandSeq(a).map((x) => x.text));
    if (node.optional) options.push('');
    out = out.flatMap((x) => options.map((o) => ({ ...x, text: x.text + o })));
  }
  return out;
}

const TABLE_BITS = 11;
const TABLE_MASK = (1 << TABLE_BITS) - 1;
const table = new Int32Array(1 << TABLE_BITS);
const entryWord: string[] = [];
const entryHash: number[] = [];
const entryPhrases: Phrase[][] = [];
/** Prefix words (`eigen\w*`), by the lower-case codes of their first two letters. */
const prefixes: (Prefix[] | undefined)[] = new Array(128 * 128).fill(undefined);

const slotOf = (h: number) => (h ^ (h >>> TABLE_BITS) ^ (h >>> 22)) & TABLE_MASK;

function entryFor(word: string): Phrase[] {
  const h = hashWord(word);
  let slot = slotOf(h);
  for (;;) {
    const k = table[slot]!;
    if (k === 0) break;
    if (entryWord[k - 1] === word) return entryPhrases[k - 1]!;
    slot = (slot + 1) & TABLE_MASK;
  }
  if (entryWord.length > table.length / 2) throw new Error('word table too full');
  entryWord.push(word);
  entryHash.push(h);
  entryPhrases.push([]);
  table[slot] = entryWord.length;
  return entryPhrases[entryWord.length - 1]!;
}

function addPhrase(
  signal: number,
  text: string,
  exactCase: boolean,
  notFollowedBy = '',
  test: Phrase['test'] = null,
) {
  const parts = text.match(/\w+|\W+/g) ?? [];
  if (parts.length === 0 || !/^\w/.test(parts[0]!))
    throw new Error(`word pattern: ${text} must start with a word`);
  const written: string[] = [];
  const seps: string[] = [];
  let trailing = '';
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k]!;
    if (/^\w/.test(part)) written.push(part);
    else if (k === parts.length - 1) trailing = part;
    else seps.push(part);
  }
  const words = written.map((x) => x.toLowerCase());
  entryFor(words[0]!).push({
    signal,
    words,
    exact: exactCase ? written : null,
    hashes: words.map(hashWord),
    seps,
    trailing,
    notFollowedBy,
    test,
  });
}

function addPrefix(signal: number, prefix: string, extra: number, test: Prefix['test'] = null) {
  if (prefix.length < 2) throw new Error(`word pattern: prefix ${prefix} is too short`);
  const c = (prefix.charCodeAt(0) << 7) | prefix.charCodeAt(1);
  const list = prefixes[c] ?? [];
  list.push({ signal, prefix, minLength: prefix.length + extra, test });
  prefixes[c] = list;
}

for (const { signal, words, exactCase } of WORD_SIGNALS) {
  for (const seq of parse(words)) {
    for (const x of expandSeq(seq)) {
      if (x.prefixMin >= 0) addPrefix(signal.id, x.text.toLowerCase(), x.prefixMin);
      else addPhrase(signal.id, x.text, exactCase ?? false, x.notFollowedBy);
    }
  }
}

// Hardness: `o(…)` followed by a word character (the group's closing `\b`), in the list after "complexity".
addPhrase(HARD.id, 'o', false, '', (text, w) => {
  const e = ends[w]!;
  if (text.charCodeAt(e) !== 40) return -1; // (
  const close = text.indexOf(')', e + 1);
  return close >= 0 && isWord(text.charCodeAt(close + 1)) ? close + 1 : -1;
});

// File names: note where the first `name.ext` run starts.
for (const seq of parse(FILE_EXTENSIONS)) {
  for (const x of expandSeq(seq)) {
    addPhrase(EXTENSION_CUE.id, x.text, false, '', (text, w) => {
      const s = starts[w]!;
      if (extensionRun >= 0 || text.charCodeAt(s - 1) !== 46) return ends[w]!; // .
      let p = s - 1;
      while (p > 0 && (isWord(text.charCodeAt(p - 1)) || text.charCodeAt(p - 1) === 45)) p--;
      if (p < s - 1) extensionRun = p;
      return ends[w]!;
    });
  }
}

// Stack traces: the fixed phrases of TRACE_RE (matched anywhere, even inside a word), found from a word
// they contain that has to start a word, and a frame line (`^\s+at `).
const tracePhrase = (phrase: string, offset: number) => (text: string, w: number) =>
  eqLower(text, starts[w]! - offset, phrase) ? ends[w]! : -1;
addPhrase(TRACE_CUE.id, 'recent', false, '', tracePhrase('traceback (most recent call last)', 16));
addPhrase(TRACE_CUE.id, 'is', false, '', tracePhrase('undefined is not a function', 10));
addPhrase(TRACE_CUE.id, 'read', false, '', tracePhrase('cannot read propert', 7));
addPrefix(TRACE_CUE.id, 'fault', 0, tracePhrase('segmentation fault', 13));
addPrefix(TRACE_CUE.id, 'dumped', 0, tracePhrase('core dumped', 5));
addPrefix(TRACE_CUE.id, 'at', 0, tracePhrase('panicked at', 9));
addPhrase(TRACE_CUE.id, 'at', false, '', (text, w) => {
  const s = starts[w]!;
  if (text.charCodeAt(ends[w]!) !== 32) return -1;
  // Some line start p < s with only whitespace from p to the word.
  for (let p = s - 1; p >= 0 && isSpace(text.charCodeAt(p)); p--) {
    if (p === 0 || isLineEnd(text.charCodeAt(p - 1))) return ends[w]!;
  }
  return -1;
});

// ---------------------------------------------------------------------------------------------- scanning

function matchPhrase(text: string, p: Phrase, w: number): number {
  if (p.test !== null) return p.test(text, w);
  if (p.exact !== null && !text.startsWith(p.exact[0]!, starts[w]!)) return -1;
  let end = ends[w]!;
  const n = p.words.length;
  for (let k = 1; k < n; k++) {
    const u = w + k;
    if (u >= wordCount) return -1;
    const sep = p.seps[k - 1]!;
    const s = starts[u]!;
    const word = p.words[k]!;
    if (s !== end + sep.length || hashes[u] !== p.hashes[k] || ends[u]! - s !== word.length) return -1;
    if (!text.startsWith(sep, end)) return -1;
    if (p.exact !== null ? !text.startsWith(p.exact[k]!, s) : !eqLower(text, s, word)) return -1;
    end = ends[u]!;
  }
  if (p.trailing) {
    const next = w + n;
    if (next >= wordCount || starts[next] !== end + p.trailing.length || !text.startsWith(p.trailing, end))
      return -1;
    end += p.trailing.length;
  }
  if (p.notFollowedBy && eqLower(text, end, p.notFollowedBy)) return -1;
  return end;
}

function grow(size: number) {
  if (size <= starts.length) return;
  let n = starts.length;
  while (n < size) n *= 2;
  starts = new Int32Array(n);
  ends = new Int32Array(n);
  hashes = new Int32Array(n);
  shapes = new Uint8Array(n);
}

/** Matches of `re` (global) in `text` from `from` on. */
export function countMatches(re: RegExp, text: string, from = 0): number {
  re.lastIndex = from;
  let n = 0;
  // test() moves lastIndex past the match like exec() does, without building the match array.
  while (re.test(text)) n++;
  return n;
}

/** The next character after `pos` that is not whitespace, or -1. */
function nextNonSpace(text: string, pos: number): number {
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isSpace(c)) return c;
  }
  return -1;
}

const ZEROS: number[] = new Array(SIGNAL_COUNT).fill(0);
const SNAKE = /^[a-z]+_[a-z0-9_]+$/;
const CAMEL = /^[a-z]+[A-Z][a-z0-9]+[A-Za-z0-9]*$/;
const isIdentifier = (word: string) => SNAKE.test(word) || CAMEL.test(word);

/**
 * Counts of every signal in signals.ts (index: `Signal.id`) for `text`. With `full` false, only what
 * the instruction part is read for (the words, commas, list items): no identifiers, arithmetic, stack
 * traces, file names or LaTeX.
 */
export function scan(text: string, full = true): number[] {
  // A plain array: allocating a small typed array costs about a microsecond, more than a short scan.
  const counts = ZEROS.slice();
  const len = text.length;
  if (len === 0) return counts;
  grow((len >> 1) + 2);
  // Locals: module bindings cost a load and a hole check on every access in the loops below.
  const starts_ = starts;
  const ends_ = ends;
  const hashes_ = hashes;
  const shapes_ = shapes;
  const consumed_ = consumed;
  const arithmeticId = ARITHMETIC.id;
  const clauseId = CLAUSE.id;
  const constraintId = CONSTRAINT.id;
  const errorNameId = ERROR_NAME.id;
  const fenceId = FENCE.id;
  const fileNameId = FILE_NAME.id;
  const hardId = HARD.id;
  const identifierId = IDENTIFIER.id;
  const latexId = LATEX.id;
  const mathSymbolId = MATH_SYMBOL.id;
  const nonLatinId = NON_LATIN.id;
  const operatorId = OPERATOR.id;
  const quantityId = QUANTITY.id;
  const traceId = TRACE.id;
  const traceCueId = TRACE_CUE.id;
  consumed_.fill(0);
  extensionRun = -1;

  // Pass 1: characters. Words into the arrays; operators, fences, commas, symbols counted in place.
  let n = 0;
  let fenceEnd = 0;
  let operatorEnd = 0;
  let lineStart = true;
  let listCue = false;
  let latexCue = false;
  let i = 0;
  while (i < len) {
    let c = text.charCodeAt(i);
    if (c < 128 && WORD[c] === 1) {
      const s = i;
      let h = 0;
      let shape = 0xff;
      for (;;) {
        // `c | 32` lower-cases letters and leaves digits alone; `_` becomes 127, which no listed word has.
        shape &= c;
        h = (Math.imul(h, 31) + (c | 32)) | 0;
        if (++i === len) break;
        c = text.charCodeAt(i);
        if (c >= 128 || WORD[c] === 0) break;
      }
      starts_[n] = s;
      ends_[n] = i;
      hashes_[n] = h;
      shapes_[n] = shape;
      n++;
      if (lineStart) {
        const first = text.charCodeAt(s);
        if (first >= 48 && first <= 57) listCue = true;
        lineStart = false;
      }
      continue;
    }
    switch (c) {
      case 10:
      case 13:
        lineStart = true;
        break;
      case 9:
      case 11:
      case 12:
      case 32:
        break;
      case 44: // ,
        counts[clauseId] = counts[clauseId]! + 1;
        lineStart = false;
        break;
      case 59: // ;
        counts[clauseId] = counts[clauseId]! + 1;
        if (endsLine(text, i + 1)) counts[operatorId] = counts[operatorId]! + 1;
        lineStart = false;
        break;
      case 123: // {
      case 125: // }
        if (endsLine(text, i + 1)) counts[operatorId] = counts[operatorId]! + 1;
        lineStart = false;
        break;
      case 61: // = : => ===
        if (i >= operatorEnd) {
          const d = text.charCodeAt(i + 1);
          if (d === 62) {
            counts[operatorId] = counts[operatorId]! + 1;
            operatorEnd = i + 2;
          } else if (d === 61 && text.charCodeAt(i + 2) === 61) {
            counts[operatorId] = counts[operatorId]! + 1;
            operatorEnd = i + 3;
          }
        }
        lineStart = false;
        break;
      case 45: // - : ->, list marker
        if (i >= operatorEnd && text.charCodeAt(i + 1) === 62) {
          counts[operatorId] = counts[operatorId]! + 1;
          operatorEnd = i + 2;
        }
        if (lineStart) listCue = true;
        lineStart = false;
        break;
      case 42: // * : list marker
        if (lineStart) listCue = true;
        lineStart = false;
        break;
      case 58: // ::
      case 43: // ++
      case 38: // &&
      case 124: // ||
        if (i >= operatorEnd && text.charCodeAt(i + 1) === c) {
          counts[operatorId] = counts[operatorId]! + 1;
          operatorEnd = i + 2;
        }
        lineStart = false;
        break;
      case 33: // !==
        if (i >= operatorEnd && text.charCodeAt(i + 1) === 61 && text.charCodeAt(i + 2) === 61) {
          counts[operatorId] = counts[operatorId]! + 1;
          operatorEnd = i + 3;
        }
        lineStart = false;
        break;
      case 96: // ```
        if (i >= fenceEnd && text.charCodeAt(i + 1) === 96 && text.charCodeAt(i + 2) === 96) {
          counts[fenceId] = counts[fenceId]! + 1;
          fenceEnd = i + 3;
        }
        lineStart = false;
        break;
      case 37: // %
        counts[quantityId] = counts[quantityId]! + 1;
        lineStart = false;
        break;
      case 92: // \
      case 36: // $
        latexCue = true;
        lineStart = false;
        break;
      case 34: // "  (File "…", line N)
        if (eqLower(text, i - 5, 'file "')) counts[traceCueId] = counts[traceCueId]! + 1;
        lineStart = false;
        break;
      default:
        if (c >= 128) {
          // The CJK comma, enumeration comma and semicolon separate clauses as `,` and `;` do.
          if (c === 0xff0c || c === 0x3001 || c === 0xff1b) counts[clauseId] = counts[clauseId]! + 1;
          else if (SYMBOLS.has(c)) counts[mathSymbolId] = counts[mathSymbolId]! + 1;
          else if (isNonLatin(c)) counts[nonLatinId] = counts[nonLatinId]! + 1;
          if (isLineEnd(c)) lineStart = true;
          else if (!isSpace(c)) {
            if (c === 0x2022 && lineStart) listCue = true; // •
            lineStart = false;
          }
        } else lineStart = false;
    }
    i++;
  }
  wordCount = n;
  counts[WORD_COUNT.id] = n;

  // Pass 2: words. Word lists, then the word-shaped structural cues, each after its last match.
  for (let w = 0; w < n; w++) {
    const s = starts_[w]!;
    const e = ends_[w]!;
    const h = hashes_[w]!;
    let slot = slotOf(h);
    for (;;) {
      const k = table[slot]!;
      if (k === 0) break;
      const entry = k - 1;
      const word = entryWord[entry]!;
      if (entryHash[entry] === h && word.length === e - s && eqLower(text, s, word)) {
        const phrases = entryPhrases[entry]!;
        let done = -1;
        for (let j = 0; j < phrases.length; j++) {
          const p = phrases[j]!;
          const sig = p.signal;
          if (sig === done || s < consumed_[sig]!) continue;
          const end = matchPhrase(text, p, w);
          if (end >= 0) {
            counts[sig] = counts[sig]! + 1;
            consumed_[sig] = end;
            done = sig;
          }
        }
        break;
      }
      slot = (slot + 1) & TABLE_MASK;
    }

    const first = text.charCodeAt(s);
    const lowerFirst = lowerCode(first);
    const rules = e - s >= 2 ? prefixes[(lowerFirst << 7) | lowerCode(text.charCodeAt(s + 1))] : undefined;
    if (rules !== undefined) {
      for (const r of rules) {
        if (s < consumed_[r.signal]! || e - s < r.minLength || !eqLower(text, s, r.prefix)) continue;
        const end = r.test === null ? e : r.test(text, w);
        if (end >= 0) {
          counts[r.signal] = counts[r.signal]! + 1;
          consumed_[r.signal] = end;
        }
      }
    }

    const last = text.charCodeAt(e - 1);
    const firstIsDigit = first >= 48 && first <= 57;
    const lastIsDigit = last >= 48 && last <= 57;

    if (full) {
      // Identifiers: snake_case, camelCase, `f()`, `obj.method(`.
      if (s >= consumed_[identifierId]!) {
        let end = -1;
        if (
          first >= 97 &&
          first <= 122 &&
          (shapes_[w]! & LOWER_BIT) === 0 &&
          isIdentifier(text.slice(s, e))
        ) {
          end = e;
        } else if (e - s === 1 && text.charCodeAt(e) === 40 && text.charCodeAt(e + 1) === 41) end = e + 2;
        else if (
          text.charCodeAt(e) === 46 &&
          w + 1 < n &&
          starts_[w + 1] === e + 1 &&
          text.charCodeAt(ends_[w + 1]!) === 40
        ) {
          end = ends_[w + 1]! + 1;
        } else if (text.charCodeAt(e) === 40 && text.charCodeAt(e + 1) === 41) end = e + 2;
        if (end >= 0) {
          counts[identifierId] = counts[identifierId]! + 1;
          consumed_[identifierId] = end;
        }
      }

      // Arithmetic: can start only at a `\d*[a-z]` word (`2x + 1`, `x = 3`, `x^2`) or a number's last digit.
      if (last >= 97 && last <= 122) {
        if ((e - s === 1 || firstIsDigit) && s >= consumed_[arithmeticId]!) {
          let digits = true;
          for (let j = s + 1; j < e - 1; j++) {
            const d = text.charCodeAt(j);
            if (d < 48 || d > 57) {
              digits = false;
              break;
            }
          }
          const next = digits ? nextNonSpace(text, e) : -1;
          if (next === 94 || next === 45 || next === 43 || next === 61) arithmeticAt(text, s, counts);
        }
      } else if (lastIsDigit && e - 1 >= consumed_[arithmeticId]!) {
        const next = nextNonSpace(text, e);
        if (
          next === 43 ||
          next === 42 ||
          next === 47 ||
          next === 94 ||
          next === 45 ||
          next === 61 ||
          next === 215 ||
          next === 247
        ) {
          arithmeticAt(text, e - 1, counts);
        }
      }

      // Error class names (`TypeError`), the one stack-trace alternative that is a single word.
      if (e - s >= 6 && lowerFirst >= 97 && lowerFirst <= 122) {
        const l = lowerCode(last);
        if (
          (l === 114 && eqLower(text, e - 5, 'error')) ||
          (l === 110 && e - s >= 10 && eqLower(text, e - 9, 'exception'))
        )
          counts[errorNameId] = counts[errorNameId]! + 1;
      }
    }
    // Hardness: a length in words ("1,500-word").
    if (firstIsDigit && s >= consumed_[hardId]!) {
      const a = text.charCodeAt(s + 1);
      const b = text.charCodeAt(s + 2);
      if ((a === 44 || (a >= 48 && a <= 57)) && (b === 44 || (b >= 48 && b <= 57))) {
        HARD_LENGTH_RE.lastIndex = s;
        if (HARD_LENGTH_RE.test(text)) {
          counts[hardId] = counts[hardId]! + 1;
          consumed_[hardId] = HARD_LENGTH_RE.lastIndex;
        }
      }
    }
  }

  // The structural regexes, only where the scan saw they can match.
  if (full) {
    counts[traceId] = counts[traceCueId]! > 0 ? countMatches(TRACE_RE, text) : counts[errorNameId]!;
    if (extensionRun >= 0) counts[fileNameId] = countMatches(FILE_NAME_RE, text, extensionRun);
    if (latexCue) counts[latexId] = countMatches(LATEX_RE, text);
  }
  if (listCue) counts[constraintId] = counts[constraintId]! + countMatches(LIST_ITEM_RE, text);
  return counts;
}

function arithmeticAt(text: string, pos: number, counts: number[]) {
  ARITHMETIC_RE.lastIndex = pos;
  if (ARITHMETIC_RE.test(text)) {
    counts[ARITHMETIC.id] = counts[ARITHMETIC.id]! + 1;
    consumed[ARITHMETIC.id] = ARITHMETIC_RE.lastIndex;
  }
}

/** `[{};]\s*$` (multiline) after the character before `pos`: only whitespace up to a line end or the end. */
function endsLine(text: string, pos: number): boolean {
  for (let j = pos; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (isLineEnd(c)) return true;
    if (!isSpace(c)) return false;
  }
  return true;
}
