/**
 * Reading a reviewer's reply: `{"verdict": "accept|revise|reject", "score": 0..10, "issues": [...]}`,
 * with the same tolerance as the judge's verdict (prose, fences, loose JSON), plus plain-text fallbacks:
 * "Verdict: accept", "Score: 7/10" and a bulleted list under "Issues:".
 */
import { findJsonObjects } from './loose-json.ts';
import type { Review } from './types.ts';
import { parseScore } from './verdict.ts';

export type ParsedReview = Pick<Review, 'verdict' | 'score' | 'issues'>;

const VERDICTS: [RegExp, Review['verdict']][] = [
  [/^(?:accept(?:ed)?|approved?|lgtm|pass(?:es|ed)?|ok(?:ay)?|ship(?:\s+it)?)\b/i, 'accept'],
  [/^(?:reject(?:ed)?|fail(?:s|ed)?|block(?:ed)?)\b/i, 'reject'],
  [/^(?:revis(?:e|ed|ion)|changes?|needs?|request|minor|major|rework)/i, 'revise'],
];

export function toVerdict(value: unknown): Review['verdict'] | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().replace(/^["'*_]+/, '');
  return VERDICTS.find(([re]) => re.test(v))?.[1];
}

/** Score from the verdict when a reviewer gives none; verdict from the score when it gives no verdict. */
const VERDICT_SCORE = { accept: 8, revise: 5, reject: 2 } as const;
export function verdictForScore(score: number): Review['verdict'] {
  return score >= 8 ? 'accept' : score >= 4 ? 'revise' : 'reject';
}

export function parseReview(text: string): ParsedReview | undefined {
  const obj = findJsonObjects(text)
    .filter((o) => 'verdict' in o || 'score' in o || 'issues' in o)
    .at(-1);
  let verdict = toVerdict(obj?.verdict ?? obj?.decision);
  let score = parseScore(obj?.score ?? obj?.rating);
  let issues = obj ? issuesFrom(obj.issues ?? obj.problems ?? obj.comments) : undefined;
  if (!obj) {
    verdict = toVerdict(/\b(?:verdict|decision)\W*\s*(\w+(?:\s+\w+)?)/i.exec(text)?.[1]);
    score = parseScore(
      /\b(?:score|rating)\W*\s*(-?\d+(?:\.\d+)?(?:\s*(?:\/|out\s+of)\s*\d+)?)/i.exec(text)?.[1],
    );
    issues = issueList(text);
  }
  if (verdict === undefined && score === undefined) return undefined;
  score ??= VERDICT_SCORE[verdict!];
  verdict ??= verdictForScore(score);
  return { verdict, score, issues: issues ?? [] };
}

function issuesFrom(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : [];
  if (!Array.isArray(value)) return [];
  return value
    .map((item) => {
      if (typeof item === 'string') return item;
      if (item && typeof item === 'object') {
        const rec = item as Record<string, unknown>;
        const t = rec.issue ?? rec.description ?? rec.text ?? rec.message ?? rec.title;
        return typeof t === 'string' ? t : JSON.stringify(item);
      }
      return String(item);
    })
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Bullets or numbered items after an "Issues:" heading, up to the next blank line or heading. */
function issueList(text: string): string[] {
  const m = /\b(?:issues|problems)\b[^\n]*\n([\s\S]*)/i.exec(text);
  if (!m) return [];
  const out: string[] = [];
  for (const line of m[1]!.split('\n')) {
    const item = /^\s*(?:[-*•]|\d+[.)])\s+(.+)/.exec(line);
    if (item) out.push(item[1]!.trim());
    else if (out.length && !line.trim()) break;
    else if (out.length) break;
  }
  return out;
}
