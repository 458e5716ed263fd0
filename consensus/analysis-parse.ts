/**
 * Reading fusion's analysis, tolerantly. Asked for JSON matching `ANALYSIS_SCHEMA`, analysts also answer
 * with the JSON inside prose or a code fence, loose JSON (single quotes, trailing commas, bare keys),
 * other key names (`disagreements`, `blind_spots`, `Unique Insights`), items as plain strings
 * ("A and C say …"), labels as `"Candidate B"`, `"A, C"` or 1-based numbers, a JSON reply cut off at
 * the output limit, or no JSON at all but headed bulleted sections. Labels outside the candidate set
 * are dropped, so an analyst cannot invent a candidate; lists and texts are capped so a runaway reply
 * cannot bloat the record. Nothing it reads is evaluated.
 */
import { findJsonObjects, parseLooseJson } from './loose-json.ts';
import type { Analysis } from './types.ts';
import { toLabel } from './verdict.ts';

/** The analysis in the analyst's terms: candidates by the labels it was shown. */
export type LabelledAnalysis = Analysis<string>;

type Section = keyof LabelledAnalysis;

/** At most this many items per list, and characters per text. */
export const MAX_ITEMS = 24;
export const MAX_TEXT = 600;

const SECTIONS: Record<Section, RegExp> = {
  agreements:
    /^(?:agreements?|points?_of_agreement|consensus|common_ground|shared(?:_points)?|agreed(?:_points)?)$/,
  contradictions: /^(?:contradictions?|disagreements?|conflicts?|disputes?|conflicting(?:_claims)?)$/,
  partial_coverage: /^(?:partial(?:_coverage)?|partially_covered(?:_points)?|coverage)$/,
  unique_insights: /^(?:unique(?:_insights?|_points)?|insights?|distinct_insights?)$/,
  gaps: /^(?:gaps?|blind_?spots?|missing(?:_points)?|omissions?|not_covered)$/,
};

const keyName = (key: string) =>
  key
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

function sectionOf(key: string): Section | undefined {
  const name = keyName(key);
  return (Object.keys(SECTIONS) as Section[]).find((s) => SECTIONS[s].test(name));
}

export function parseAnalysis(text: string, labels: readonly string[]): LabelledAnalysis | undefined {
  const obj = analysisObject(text);
  if (obj) return fromObject(obj, labels);
  return fromProse(text, labels);
}

/** The last object with an analysis key (analysts echo the schema first); unwraps `{"analysis": {…}}`. */
function analysisObject(text: string): Record<string, unknown> | undefined {
  const objects = findJsonObjects(text).map(unwrap);
  const found = objects.filter(isAnalysis).at(-1);
  if (found) return found;
  const repaired = repairTruncated(text);
  return repaired && isAnalysis(unwrap(repaired)) ? unwrap(repaired) : undefined;
}

function unwrap(obj: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    if (/^analysis$/i.test(k.trim()) && v && typeof v === 'object' && !Array.isArray(v))
      return v as Record<string, unknown>;
  }
  return obj;
}

/** A schema echoed back (`"type": "object"`, `"properties"`) is not an analysis. */
function isAnalysis(obj: Record<string, unknown>): boolean {
  if ('properties' in obj && obj.type === 'object') return false;
  return Object.keys(obj).some((k) => sectionOf(k) !== undefined);
}

/**
 * A reply cut off at the output limit: from its first `{`, close what is open (a string, then each
 * array and object) and parse; if that fails, drop the last partial element and try again.
 */
function repairTruncated(text: string): Record<string, unknown> | undefined {
  const tail = text.slice(-65_536);
  const start = tail.indexOf('{');
  if (start < 0) return undefined;
  let body = tail.slice(start);
  for (let tries = 0; tries < 24 && body.length > 1; tries++) {
    const value = parseLooseJson(body + closers(body));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    const cut = lastSeparator(body);
    if (cut <= 0) return undefined;
    body = body.slice(0, cut);
  }
  return undefined;
}

/** What closes every string, array and object left open at the end of `text`. */
function closers(text: string): string {
  const open: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"') quote = c;
    else if (c === '{') open.push('}');
    else if (c === '[') open.push(']');
    else if ((c === '}' || c === ']') && open.length) open.pop();
  }
  return (quote ?? '') + open.reverse().join('');
}

/** Index of the last `,`, `[` or `{` outside a string: cutting there drops the last partial element. */
function lastSeparator(text: string): number {
  let last = -1;
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === ',') last = i;
    else if ((c === '[' || c === '{') && i > 0) last = i + 1;
  }
  return last === text.length ? last - 1 : last;
}

function fromObject(obj: Record<string, unknown>, labels: readonly string[]): LabelledAnalysis {
  const out = empty();
  for (const [key, value] of Object.entries(obj)) {
    const section = sectionOf(key);
    if (!section) continue;
    const items = Array.isArray(value) ? value : value === null || value === undefined ? [] : [value];
    for (const item of items.slice(0, MAX_ITEMS * 2)) addItem(out, section, item, labels);
  }
  return capped(out);
}

function empty(): LabelledAnalysis {
  return { agreements: [], contradictions: [], partial_coverage: [], unique_insights: [], gaps: [] };
}

function capped(a: LabelledAnalysis): LabelledAnalysis {
  return {
    agreements: a.agreements.slice(0, MAX_ITEMS),
    contradictions: a.contradictions.slice(0, MAX_ITEMS),
    partial_coverage: a.partial_coverage.slice(0, MAX_ITEMS),
    unique_insights: a.unique_insights.slice(0, MAX_ITEMS),
    gaps: a.gaps.slice(0, MAX_ITEMS),
  };
}

const TEXT_KEYS = ['point', 'text', 'claim', 'description', 'summary', 'content', 'statement', 'detail'];
const WHO_KEYS = [
  'candidates',
  'candidate',
  'by',
  'labels',
  'label',
  'responses',
  'response',
  'sources',
  'source',
  'supported_by',
  'covered_by',
  'held_by',
  'who',
];
const ASSESS_KEYS = ['assessment', 'resolution', 'verdict', 'judgement', 'judgment', 'evaluation', 'note'];

function addItem(out: LabelledAnalysis, section: Section, item: unknown, labels: readonly string[]): void {
  const rec = record(item);
  const prose = typeof item === 'string' ? clip(item) : undefined;
  switch (section) {
    case 'agreements':
    case 'partial_coverage': {
      const point = prose ?? textOf(rec, TEXT_KEYS);
      if (point) out[section].push({ point, candidates: who(rec, prose, labels) });
      return;
    }
    case 'unique_insights': {
      const insight = prose ?? textOf(rec, ['insight', ...TEXT_KEYS]);
      const candidate = who(rec, prose, labels)[0];
      if (!insight || !candidate) return;
      const assessment = textOf(rec, ASSESS_KEYS);
      out.unique_insights.push({ insight, candidate, ...(assessment ? { assessment } : {}) });
      return;
    }
    case 'contradictions': {
      const topic = prose ?? textOf(rec, ['topic', 'issue', 'subject', 'about', 'question', ...TEXT_KEYS]);
      const positions = positionsOf(rec, labels);
      if (!topic && !positions.length) return;
      const assessment = textOf(rec, ASSESS_KEYS);
      out.contradictions.push({
        topic: topic ?? positions.map((p) => p.claim).join(' / '),
        positions,
        ...(assessment ? { assessment } : {}),
      });
      return;
    }
    case 'gaps': {
      const gap = prose ?? textOf(rec, ['gap', 'missing', 'blind_spot', ...TEXT_KEYS]);
      if (gap) out.gaps.push(gap);
      return;
    }
  }
}

/**
 * A contradiction's positions: a list of `{claim, candidates}`, or a map from label to claim
 * (`{"A": "…", "C": "…"}`), under `positions`, `sides`, `claims` or `views`.
 */
function positionsOf(rec: Record<string, unknown> | undefined, labels: readonly string[]) {
  const out: { claim: string; candidates: string[] }[] = [];
  if (!rec) return out;
  const raw = fieldOf(rec, ['positions', 'sides', 'claims', 'views', 'stances']);
  if (Array.isArray(raw)) {
    for (const p of raw.slice(0, MAX_ITEMS)) {
      const prec = record(p);
      const prose = typeof p === 'string' ? clip(p) : undefined;
      const claim = prose ?? textOf(prec, ['claim', 'position', 'view', 'stance', ...TEXT_KEYS]);
      if (claim) out.push({ claim, candidates: who(prec, prose, labels) });
    }
  } else if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      const label = toLabel(k, labels);
      const claim = typeof v === 'string' ? clip(v) : textOf(record(v), ['claim', ...TEXT_KEYS]);
      if (label && claim) out.push({ claim, candidates: [label] });
    }
  }
  return out;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function fieldOf(rec: Record<string, unknown> | undefined, keys: readonly string[]): unknown {
  if (!rec) return undefined;
  for (const [k, v] of Object.entries(rec)) if (keys.includes(keyName(k))) return v;
  return undefined;
}

function textOf(rec: Record<string, unknown> | undefined, keys: readonly string[]): string | undefined {
  if (!rec) return undefined;
  for (const key of keys) {
    const v = fieldOf(rec, [key]);
    if (typeof v === 'string' && v.trim()) return clip(v);
  }
  return undefined;
}

function clip(text: string): string | undefined {
  const t = text.replace(/\s+/g, ' ').trim();
  if (!t) return undefined;
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT - 1)}…` : t;
}

/** Who an item names: its label field, else (for a plain-text item) the labels its text cites. */
function who(rec: Record<string, unknown> | undefined, prose: string | undefined, labels: readonly string[]) {
  const raw = fieldOf(rec, WHO_KEYS);
  const found = raw !== undefined ? labelsIn(raw, labels) : prose ? citedLabels(prose, labels) : [];
  return [...new Set(found)];
}

function labelsIn(value: unknown, labels: readonly string[]): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => labelsIn(v, labels));
  if (typeof value === 'number') return [toLabel(value, labels)].filter((l): l is string => !!l);
  if (typeof value !== 'string') return [];
  return value
    .split(/\s*(?:[,;&/+]|\band\b)\s*/i)
    .map((part) => toLabel(part, labels))
    .filter((l): l is string => !!l);
}

/**
 * Labels a sentence cites: "Candidate A", "Response B", "(C)", "[A, B]", "A and C say". A lone capital
 * counts only as a list of labels or beside a cue word, so "A queue…" names nobody.
 */
const LIST = String.raw`[A-Z]{1,2}(?:\s*(?:,|and|&)\s*[A-Z]{1,2}\b)*`;
const CITES = [
  // "Candidate A", "Responses B and C"
  new RegExp(String.raw`\b(?:[Cc]andidates?|[Rr]esponses?|[Aa]nswers?)\s+(${LIST})\b`, 'g'),
  // "(A, C)", "[B]"
  new RegExp(String.raw`[([](${LIST})[)\]]`, 'g'),
  // "A and C say …", "B: …" at the start
  new RegExp(String.raw`^(${LIST})\s*(?::|says?\b|agree\b|notes?\b|adds?\b|mentions?\b|claims?\b)`, 'g'),
];

function citedLabels(text: string, labels: readonly string[]): string[] {
  const valid = new Set(labels);
  const out: string[] = [];
  for (const re of CITES)
    for (const m of text.matchAll(re))
      for (const l of m[1]!.match(/[A-Z]{1,2}/g) ?? []) if (valid.has(l)) out.push(l);
  return out;
}

const HEADING =
  /^\s*(?:#{1,6}\s*|\*\*|__)?\s*([A-Za-z][A-Za-z _/-]{1,40}?)\s*(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*$/;
const BULLET = /^\s*(?:[-*•]|\d+[.)])\s+(.+)$/;

/** No JSON: sections under headings such as "## Contradictions" or "**Gaps:**", one bullet per item. */
function fromProse(text: string, labels: readonly string[]): LabelledAnalysis | undefined {
  const out = empty();
  let section: Section | undefined;
  let seen = false;
  for (const line of text.split('\n')) {
    const heading = HEADING.exec(line);
    const named = heading ? sectionOf(heading[1]!) : undefined;
    if (named) {
      section = named;
      seen = true;
      continue;
    }
    if (heading && !BULLET.test(line)) section = undefined;
    const bullet = BULLET.exec(line);
    if (section && bullet) addItem(out, section, bullet[1]!.replace(/\*\*/g, ''), labels);
  }
  return seen ? capped(out) : undefined;
}
