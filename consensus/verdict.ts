/**
 * Reading a judge's verdict, tolerantly. Asked for `{"scores": {"A": 7, "B": 9}, "best": "B",
 * "rationale": "…"}`, judges also answer with the JSON inside prose or a code fence, single quotes,
 * trailing commas, "A: 7/10" lines, or just "Best: B". Anything that names a label outside `labels`
 * is ignored, so a judge cannot invent a candidate.
 */
import { findJsonObjects } from './loose-json.ts';

export interface Verdict {
  /** Label → score in 0..10; labels the judge did not score are absent. */
  scores: Record<string, number>;
  best?: string;
  rationale: string;
}

export function parseVerdict(text: string, labels: readonly string[]): Verdict | undefined {
  const valid = new Set(labels);
  let scores: Record<string, number> = {};
  let best: string | undefined;
  let rationale: string | undefined;
  // The last object that looks like a verdict: judges often echo the format first, then answer.
  const objects = findJsonObjects(text).filter(
    (o) => 'scores' in o || 'best' in o || labels.some((l) => l in o),
  );
  const obj = objects.at(-1);
  if (obj) {
    scores =
      typeof obj.scores === 'string' ? scoreLines(obj.scores, valid) : scoresFrom(obj.scores ?? obj, labels);
    best = toLabel(obj.best ?? obj.winner ?? obj.choice ?? obj.selected, labels);
    rationale = rationaleFrom(obj);
  }
  if (!Object.keys(scores).length) scores = scoreLines(text, valid);
  best ??= bestFromProse(text, valid);
  if (!Object.keys(scores).length && !best) return undefined;
  return { scores, ...(best ? { best } : {}), rationale: rationale ?? rationaleFromProse(text) };
}

/**
 * A 0..10 score from a number or text ("7", "7/10", "8.5 out of 10", "85/100"). A bare value in
 * (10, 100] is read as a percentage; anything else is clamped.
 */
export function parseScore(value: unknown): number | undefined {
  if (value && typeof value === 'object' && 'score' in value) return parseScore(value.score);
  let n: number;
  let scale = 10;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = /(-?\d+(?:\.\d+)?)(?:\s*(?:\/|out\s+of)\s*(\d+))?/i.exec(value);
    if (!m) return undefined;
    n = Number(m[1]);
    if (m[2]) scale = Number(m[2]);
  } else return undefined;
  if (!Number.isFinite(n) || !(scale > 0)) return undefined;
  if (scale !== 10) n = (n / scale) * 10;
  else if (n > 10 && n <= 100) n /= 10;
  return Math.min(10, Math.max(0, n));
}

/** A label from "B", "b", "Candidate B", "(B)", "**B**" or a 1-based number. */
export function toLabel(value: unknown, labels: readonly string[]): string | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? labels[value - 1] : undefined;
  if (typeof value !== 'string') return undefined;
  const bare = value
    .replace(/\b(?:candidate|response|answer|option|label)\b/gi, '')
    .replace(/[\s()[\]"'*_.:#]/g, '');
  if (labels.includes(bare.toUpperCase())) return bare.toUpperCase();
  if (/^\d+$/.test(bare)) return labels[Number(bare) - 1];
  for (const m of value.matchAll(/\b([A-Z]{1,2})\b/g)) if (labels.includes(m[1]!)) return m[1];
  return undefined;
}

function scoresFrom(value: unknown, labels: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const rec = item && typeof item === 'object' ? (item as Record<string, unknown>) : undefined;
      const lab = rec ? toLabel(rec.label ?? rec.candidate ?? rec.id ?? rec.name, labels) : labels[i];
      const score = parseScore(rec ? (rec.score ?? rec.value) : item);
      if (lab && score !== undefined) out[lab] = score;
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const lab = toLabel(k, labels);
      const score = parseScore(v);
      if (lab && score !== undefined && /^\W*(?:candidate|response|answer|option)?\W*\w{1,2}\W*$/i.test(k)) {
        out[lab] = score;
      }
    }
  }
  return out;
}

// "A: 7", "- Candidate B: 9/10", "**A** - 8.5", "A = 7", "Score for B: 6", "B scored 9"
const SCORE_LINE =
  /^[\s>*#_\-•]*(?:(?:candidate|response|answer|option)\s*)?\(?([A-Z]{1,2})\)?[\s*_]*(?:[:=\-–—]|\bscored?\b:?|\bgets\b)\s*[*_]*\s*(-?\d+(?:\.\d+)?(?:\s*(?:\/|out\s+of)\s*\d+)?)/i;
const SCORE_FOR =
  /\bscore\s+(?:for|of)\s+(?:candidate\s+|response\s+)?\(?([A-Z]{1,2})\)?\s*(?:[:=\-–—]|is)?\s*[*_]*\s*(-?\d+(?:\.\d+)?(?:\s*(?:\/|out\s+of)\s*\d+)?)/gi;

function scoreLines(text: string, valid: Set<string>): Record<string, number> {
  const out: Record<string, number> = {};
  // Commas and semicolons split too, so "A: 7, B: 9" on one line reads both.
  for (const line of text.split(/[\n,;]/)) {
    const first = SCORE_LINE.exec(line);
    for (const m of first ? [first] : line.matchAll(SCORE_FOR)) {
      const lab = m[1]?.toUpperCase();
      const score = parseScore(m[2]);
      if (lab && valid.has(lab) && score !== undefined) out[lab] = score;
    }
  }
  return out;
}

const BEST_CUE =
  /\b(?:best(?:\s+(?:candidate|response|answer|one|choice|option))?|winner|my\s+choice|choice|chosen|pick|selected|most\s+consistent(?:\s+(?:candidate|response|answer|one))?)\b[\s*_]*(?:is|:|=|-|–)?[\s*_]*/gi;
const REVERSE_BEST =
  /\b(?:(?:candidate|response|answer|option)\s+)?\(?([A-Z]{1,2})\)?\s+is\s+(?:clearly\s+|the\s+|overall\s+)*(?:best|winner|most\s+consistent)\b/g;

/** "Best: B", "The best candidate is (B)", "Winner — C", "B is the best"; the last mention wins. */
function bestFromProse(text: string, valid: Set<string>): string | undefined {
  const found: { at: number; label: string }[] = [];
  for (const m of text.matchAll(BEST_CUE)) {
    const rest = text.slice(m.index + m[0].length, m.index + m[0].length + 40);
    // Upper-case labels anywhere; a lower-case letter only when it stands alone ("best: b", not "is a tie").
    const up = /^(?:(?:candidate|response|answer|option)\s+)?["'(*[]*([A-Z]{1,2})\b/i.exec(rest);
    const raw = up?.[1];
    if (!raw) continue;
    const alone =
      /^(?:(?:candidate|response|answer|option)\s+)?["'(*[]*[a-z]{1,2}(?:["')*\].,;!]|\s*$)/i.test(rest);
    const lab = raw.toUpperCase();
    if (valid.has(lab) && (raw === lab || alone)) found.push({ at: m.index, label: lab });
  }
  for (const m of text.matchAll(REVERSE_BEST))
    if (valid.has(m[1]!)) found.push({ at: m.index, label: m[1]! });
  return found.sort((a, b) => a.at - b.at).at(-1)?.label;
}

function rationaleFrom(obj: Record<string, unknown>): string | undefined {
  const r = obj.rationale ?? obj.reason ?? obj.reasoning ?? obj.explanation ?? obj.justification;
  return typeof r === 'string' ? r : undefined;
}

function rationaleFromProse(text: string): string {
  const m =
    /\b(?:rationale|reason(?:ing)?|explanation|justification)["']?\s*[:=]\s*["']?([^\n]*?)["']?\s*,?\s*$/im.exec(
      text,
    );
  return (m?.[1] ?? text).trim().slice(0, 1000);
}
