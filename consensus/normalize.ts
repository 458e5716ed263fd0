/**
 * Answer extraction and normalisation for grouping: two candidates agree when their keys are equal.
 * Precedence, first match wins:
 *   1. the whole text as JSON (object or array): canonical JSON;
 *   2. an explicit final answer — \boxed{…}, "#### …", "the answer is …", "Answer: …", "… is the answer",
 *      then the last sentence with a cue (therefore/thus/so/in total/=) that holds a number;
 *   3. the last fenced block: canonical JSON when it is JSON, else whitespace-normalised code;
 *   4. the whole text as a bare number ("**42**", "$1,000") or option letter ("(B)", "B.");
 *   5. normalised short text (case, punctuation, whitespace, articles).
 * Numbers need a cue or must stand (nearly) alone: "3 apples and 4 oranges" stays text.
 */
import { parseLooseJson } from './loose-json.ts';
import { canonicalNumber, numberTokens } from './numbers.ts';

export type AnswerKind = 'number' | 'option' | 'json' | 'code' | 'text';

export interface NormalizedAnswer {
  kind: AnswerKind;
  key: string;
}

export function normalizeAnswer(raw: string): NormalizedAnswer {
  const text = raw.normalize('NFKC').trim();
  const json = canonicalJson(text);
  if (json !== undefined) return { kind: 'json', key: json };
  const final = finalAnswer(text);
  if (final) return final;
  const block = fencedBlocks(text).at(-1);
  if (block) {
    const json = /^(json\w*)?$/i.test(block.lang) ? canonicalJson(block.body) : undefined;
    return json !== undefined
      ? { kind: 'json', key: json }
      : { kind: 'code', key: normalizeCode(block.body) };
  }
  const plain = stripMarkdown(text);
  return bareNumber(plain) ?? bareOption(plain) ?? { kind: 'text', key: normalizeText(plain) };
}

/** Lower-case, punctuation to spaces, articles dropped, whitespace collapsed. */
export function normalizeText(text: string): string {
  const words = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
  const content = words.filter((w) => !ARTICLES.has(w));
  // An answer that is only an article ("a") keeps it rather than becoming empty.
  return (content.length ? content : words).join(' ');
}

const ARTICLES = new Set(['a', 'an', 'the']);

// ---- 1. final answers ---------------------------------------------------------------------------------

// Emphasis, inline code and TeX math delimiters carry no meaning for the answer.
function stripMarkdown(text: string): string {
  return text.replace(/[*`$]/g, '').trim();
}

const CUE_WINDOW = 4000;
const STRONG_CUE = /\b(?:final\s+answer|answer|result)\s*(?:is|was|would\s+be|will\s+be|=|:)\s*:?/gi;
const REVERSE_CUE = /(\S{1,40})\s+is\s+(?:the\s+)?(?:final\s+|correct\s+|right\s+)?answer\b/gi;
const WEAK_CUE = /\b(?:therefore|thus|hence|so|in\s+total|altogether|in\s+all|total\s+(?:is|of))\b|=/gi;

function finalAnswer(text: string): NormalizedAnswer | undefined {
  const boxed = lastBoxed(text);
  if (boxed !== undefined)
    return classifyPhrase(boxed, 'strong') ?? { kind: 'text', key: normalizeText(boxed) };
  // Final answers sit at the end; reading only the tail keeps cue search linear on huge replies.
  const plain = stripMarkdown(text.replace(/```[\s\S]*?```/g, ' ')).slice(-CUE_WINDOW);
  const hashes = plain.lastIndexOf('####');
  if (hashes >= 0) {
    const found = classifyPhrase(firstLine(plain.slice(hashes + 4)), 'strong');
    if (found) return found;
  }
  // Latest cue first: "The answer is 42. I hope this answer is helpful!" reads the 42.
  for (const m of [...plain.matchAll(STRONG_CUE)].reverse()) {
    const rest = plain.slice(m.index + m[0].length);
    const found = classifyPhrase(sentence(rest), 'strong');
    if (found) return found;
    // Free text only on the cue's own line, when the cue opens a sentence ("Answer: Paris"), not in
    // "I hope this answer is helpful", and only when short: a key for a paragraph would group nothing.
    const phrase = sentence(rest.split('\n')[0] ?? '');
    const key = normalizeText(phrase);
    if (key && opensSentence(plain, m.index) && key.split(' ').length <= 8) return { kind: 'text', key };
  }
  for (const m of [...plain.matchAll(REVERSE_CUE)].reverse()) {
    const found = classifyPhrase(m[1]!, 'strong');
    if (found) return found;
  }
  for (const m of [...plain.matchAll(WEAK_CUE)].reverse()) {
    const found = classifyPhrase(sentence(plain.slice(m.index + m[0].length)), 'weak');
    if (found?.kind === 'number') return found;
  }
  return undefined;
}

/** A number or option letter in the words after a cue; strong cues take the first number, weak the last. */
function classifyPhrase(phrase: string, cue: 'strong' | 'weak'): NormalizedAnswer | undefined {
  let p = stripMarkdown(texToPlain(phrase)).trim();
  const option =
    /^(?:option|choice|letter)?\s*\(?([A-J])\)?(?:[.:),\]]?\s*$|[.:),\]]\s|\s+[-–—:]\s|\s+(?:because|since|as)\b)/i.exec(
      p,
    );
  if (option && cue === 'strong') return { kind: 'option', key: option[1]!.toUpperCase() };
  const eq = p.lastIndexOf('=');
  if (eq >= 0) p = p.slice(eq + 1);
  if (VERSION.test(p)) return undefined;
  const numbers = numberTokens(p);
  const pick = cue === 'strong' ? numbers[0] : numbers.at(-1);
  return pick ? { kind: 'number', key: canonicalNumber(pick.value) } : undefined;
}

/** The TeX that final answers use: \frac{1}{2} → 1/2, \text{cm} → cm, 1\,000 → 1000, \left( → (. */
function texToPlain(text: string): string {
  return text
    .replace(/\\[dt]?frac\{\s*(-?[\d.]+)\s*\}\{\s*([\d.]+)\s*\}/g, '$1/$2')
    .replace(/\\(?:text|mathrm|mathbf|textbf)\{([^{}]*)\}/g, '$1')
    .replace(/(\d)\\[,!;: ](?=\d)/g, '$1')
    .replace(/\\(?:left|right|displaystyle|,|;|!|quad)/g, '');
}

const VERSION = /\bv(?:ersion)?\s*\d|\brelease\s+\d/i;

function lastBoxed(text: string): string | undefined {
  const start = text.lastIndexOf('\\boxed{');
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = start + 6; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start + 7, i).trim();
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** The rest of the line, up to the first sentence end ("3.14" keeps its dot: no space after it). */
function sentence(text: string): string {
  const line = firstLine(text);
  const end = /[.!?;](?:\s|$)/.exec(line);
  return end ? line.slice(0, end.index + 1) : line;
}

function opensSentence(text: string, index: number): boolean {
  const before = text.slice(Math.max(0, index - 40), index);
  return /(?:^|[\n.!?:]\s*|^\s*)(?:(?:so|thus|therefore|hence),?\s+)?(?:(?:the|my|our)\s+)?(?:final\s+)?$/i.test(
    before,
  );
}

// ---- 2, 3. code blocks and JSON -------------------------------------------------------------------------

interface Block {
  lang: string;
  body: string;
}

function fencedBlocks(text: string): Block[] {
  return [...text.matchAll(/(```|~~~)[ \t]*([^\n`]*)\n([\s\S]*?)\1/g)].map((m) => ({
    lang: (m[2] ?? '').trim().split(/\s+/)[0] ?? '',
    body: m[3] ?? '',
  }));
}

/** Whitespace-insensitive code: each line trimmed, runs of blanks collapsed, empty lines dropped. */
function normalizeCode(body: string): string {
  return body
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter(Boolean)
    .join('\n');
}

/**
 * Sorted keys and no whitespace, so formatting and key order do not split a group; objects and arrays
 * only. Read loosely (trailing commas, single quotes), since models write JSON loosely too.
 */
export function canonicalJson(text: string): string | undefined {
  const t = text.trim();
  if (!/^[[{]/.test(t)) return undefined;
  const value = parseLooseJson(t);
  return value && typeof value === 'object' ? JSON.stringify(sortKeys(value)) : undefined;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}

// ---- 4. bare answers --------------------------------------------------------------------------------------

/** The whole answer is one number, perhaps with a unit: at most three words and exactly one number. */
function bareNumber(text: string): NormalizedAnswer | undefined {
  if (VERSION.test(text) || text.split(/\s+/).length > 3) return undefined;
  const numbers = numberTokens(text);
  return numbers.length === 1 ? { kind: 'number', key: canonicalNumber(numbers[0]!.value) } : undefined;
}

/**
 * "B", "(B)", "B.", "B) Paris", "(B) Paris": capital letters only, so the article "a" is not option A;
 * not "B. Paris", which is also how "E. coli" and "J. K. Rowling" begin.
 */
function bareOption(text: string): NormalizedAnswer | undefined {
  const m = /^\(?([A-J])\)?[.:)]?$/.exec(text) ?? /^(?:\(([A-J])\)|([A-J])\))\s+\S/.exec(text);
  const letter = m?.[1] ?? m?.[2];
  return letter ? { kind: 'option', key: letter } : undefined;
}
