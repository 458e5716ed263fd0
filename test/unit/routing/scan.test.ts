import { describe, expect, it } from 'vitest';
import { loadCalibrationSet } from '../../../bench/calibration/dataset.ts';
import { scan } from '../../../routing/scan.ts';
import * as S from '../../../routing/signals.ts';

/**
 * The scan counts each signal in one pass over the words; these are the plain global regexes it stands
 * for (the ones analysis used to run one by one). Every count must equal the regex's match count.
 */
const listRe = (w: S.WordSignal, extra = '', flags = 'gi') =>
  new RegExp(`\\b(${w.words})\\b${extra}`, w.exactCase ? flags.replace('i', '') : flags);
const wordSignal = (signal: S.Signal) => S.WORD_SIGNALS.find((w) => w.signal === signal)!;

const REFERENCE: [string, S.Signal, RegExp][] = [
  ['fence', S.FENCE, /```/g],
  ['trace', S.TRACE, S.TRACE_RE],
  [
    'identifier',
    S.IDENTIFIER,
    /\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+[A-Z][a-z0-9]+[A-Za-z0-9]*\b|\w\(\)|\b\w+\.\w+\(/g,
  ],
  ['file name', S.FILE_NAME, S.FILE_NAME_RE],
  ['operator', S.OPERATOR, /=>|->|::|===|!==|\+\+|&&|\|\||[{};]\s*$/gm],
  ['latex', S.LATEX, S.LATEX_RE],
  ['math symbol', S.MATH_SYMBOL, new RegExp(`[${S.MATH_SYMBOLS}]`, 'g')],
  ['arithmetic', S.ARITHMETIC, new RegExp(S.ARITHMETIC_RE.source, 'g')],
  ['quantity', S.QUANTITY, listRe(wordSignal(S.QUANTITY), '|%')],
  [
    'hard',
    S.HARD,
    new RegExp(`\\b(${wordSignal(S.HARD).words}|o\\([^)]*\\))\\b|\\b${S.HARD_LENGTH_RE.source}`, 'gi'),
  ],
  ['constraint', S.CONSTRAINT, listRe(wordSignal(S.CONSTRAINT), `|${S.LIST_ITEM_RE.source}`, 'gim')],
  ['clause', S.CLAUSE, /[,;，、；]/g],
  ['words', S.WORD_COUNT, /\w+/g],
  ['non-Latin letters', S.NON_LATIN, S.NON_LATIN_RE],
];
for (const w of S.WORD_SIGNALS) {
  if (!REFERENCE.some(([, sig]) => sig === w.signal))
    REFERENCE.push([`words ${w.words.slice(0, 24)}`, w.signal, listRe(w)]);
}

function regexCount(re: RegExp, text: string): number {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  let n = 0;
  while (global.exec(text) !== null) n++;
  return n;
}

function mismatches(text: string): string[] {
  const counts = scan(text);
  const out: string[] = [];
  for (const [name, signal, re] of REFERENCE) {
    const want = regexCount(re, text);
    if (counts[signal.id] !== want)
      out.push(`${name}: scan ${counts[signal.id]}, regex ${want} in ${JSON.stringify(text)}`);
  }
  return out;
}

// Words from the lists, plus the shapes and edge cases the scan handles in code.
const PIECES = [
  ...new Set(S.WORD_SIGNALS.flatMap((w) => w.words.match(/[A-Za-z][A-Za-z ']{0,30}/g) ?? [])),
  ...[
    '(',
    ')',
    '()',
    '.',
    '-',
    "'",
    ';',
    ',',
    '++',
    '#',
    '=>',
    '->',
    '===',
    '!==',
    '::',
    '&&',
    '||',
    '{',
    '}',
  ],
  ...[
    '{ \n',
    ';\r\n',
    '\n',
    '\r\n',
    ' ',
    '\t',
    '%',
    '$x^2$',
    '$',
    '\\frac',
    '```',
    '"',
    '^',
    '×',
    'π',
    '•',
    '\u2028',
  ],
  ...['- ', '* ', '1. ', '2) ', '1,500', '12', '3', 'x', '2x', '3a', 'O(n)', 'o(n)x', 'file "a.py", line 3'],
  ...['Traceback (most recent call last)', 'xsegmentation faulty', 'core dumped', 'panicked at', 'TypeError'],
  ...['undefined is not a function', 'cannot read properties', 'terror', '    at foo (a.js:1:2)', 'main.py'],
  ...[
    'foo-bar.ts',
    '-x.yml',
    'a.b.js',
    'snake_case',
    'camelCase',
    'fooBar_x',
    'obj.method(',
    'f()',
    'İ',
    'K',
  ],
  ...[
    'é',
    'Ü',
    'ß',
    'Привет',
    'こんにちは',
    '数学',
    '한국어',
    'مرحبا',
    'नमस्ते',
    'π',
    '\u1680',
    '，',
    '？',
    '、',
    '；',
    '😀',
    'Ω',
  ],
  ...[' story', 'under 5', 'under 50', 'c++', 'C#x', 'vs.x', 'tl;dr', 'node.js', "don't", 'SELECT', 'Select'],
  ...[
    'eigenvalue',
    'recontextualizes',
    '1,500-word',
    'x1,500 words',
    'must not',
    'short story',
    'a = 5',
    '10x =',
  ],
  ...['2x - 1', '3a-', 'x+1', '2 - 3', '3*4', '1=1', 'x^2', '2x+', '2027-03-14', 'n \\to \\infty', '•\titem'],
];
const SEPARATORS = [' ', '', '\n', ', ', '. ', '-', '  ', '\n\n', '(', ')'];

describe('scan', () => {
  it('counts what each signal regex counts, on random mixes of cue words and code shapes', () => {
    let seed = 20261122;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    const bad: string[] = [];
    for (let i = 0; i < 3000 && bad.length < 5; i++) {
      let text = '';
      for (let k = 1 + next(20); k > 0; k--) {
        let piece = PIECES[next(PIECES.length)]!;
        const caseChoice = next(4);
        if (caseChoice === 0) piece = piece.toUpperCase();
        else if (caseChoice === 1) piece = piece[0]!.toUpperCase() + piece.slice(1);
        text += piece + SEPARATORS[next(SEPARATORS.length)];
      }
      bad.push(...mismatches(text));
    }
    expect(bad).toEqual([]);
  });

  it('counts what each signal regex counts on every prompt of the calibration set', () => {
    const texts = loadCalibrationSet().flatMap((p) =>
      p.request.messages.map((m) =>
        typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''),
      ),
    );
    expect(texts.flatMap(mismatches)).toEqual([]);
  });

  it('reads the quirks of the patterns exactly', () => {
    const count = (signal: S.Signal, text: string) => scan(text)[signal.id];
    expect(count(S.EASY, 'a short story, short')).toBe(1); // short(?! story)
    expect(count(S.CONSTRAINT, 'under 5 words, under 50 words')).toBe(1); // under \d\b
    expect(count(S.LANGUAGE, 'C++ and C# or c++x')).toBe(1); // \b after + or # needs a word character
    expect(count(S.HARD, 'O(n) time, O(n)x, a 1,500-word essay')).toBe(2);
    expect(count(S.SQL, 'SELECT a FROM t WHERE b; select c')).toBe(2);
    expect(count(S.TRACE, 'TypeError and xsegmentation faulty')).toBe(2);
  });
});
