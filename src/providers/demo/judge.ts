import { findExpression, statedNumber } from './arithmetic.ts';
import { draftLevel } from './revisions.ts';
import { type FencedBlock, fencedBlocks, hash } from './text.ts';

/**
 * The demo as a judge: the best-of-n judge (`{"scores", "best", "rationale"}`, consensus/judge.ts) and
 * the Universal Self-Consistency judge (`{"best", "rationale"}`, consensus/usc.ts). Both read the
 * fenced REQUEST and candidate blocks of the prompt and decide from the candidates' text alone, so the
 * verdict is the same whatever order the candidates come in.
 */

interface Judged {
  request: string;
  candidates: FencedBlock[];
}

function read(prompt: string): Judged {
  const blocks = fencedBlocks(prompt);
  return {
    request: blocks.find((b) => b.label === 'REQUEST')?.text ?? '',
    candidates: blocks.filter((b) => b.label !== 'REQUEST'),
  };
}

const round1 = (n: number) => Math.round(Math.min(10, Math.max(0, n)) * 10) / 10;

/**
 * A candidate's score for a request: a calculation is scored on its result (right 9+, wrong 2);
 * anything else on how much it says (length, specifics, revisions taken in), with a small
 * hash-based spread so different answers get different scores.
 */
export function scoreCandidate(request: string, candidate: string): number {
  const jitter = (hash(candidate) % 5) / 10;
  const expression = findExpression(request);
  if (expression) {
    const stated = statedNumber(candidate);
    if (stated === null) return round1(4 + jitter);
    if (stated !== expression.value) return round1(2 + jitter);
    return round1(9 + Math.min(0.5, candidate.length / 400));
  }
  const words = candidate.split(/\s+/).filter(Boolean).length;
  const specifics = (candidate.match(/\b\d+(?:\.\d+)?\b|\b[A-Z][a-z]+\b/g) ?? []).length;
  return round1(
    4.5 + Math.min(2.5, words / 30) + Math.min(1, specifics / 10) + draftLevel(candidate) * 0.5 + jitter,
  );
}

export function bestOfNVerdict(prompt: string): string {
  const { request, candidates } = read(prompt);
  const scores = Object.fromEntries(candidates.map((c) => [c.label, scoreCandidate(request, c.text)]));
  const ranked = [...candidates].sort(
    (a, b) => scores[b.label]! - scores[a.label]! || (a.label < b.label ? -1 : 1),
  );
  const best = ranked[0]?.label ?? 'A';
  return JSON.stringify({ scores, best, rationale: rationale(request, candidates, best) });
}

/** Label-free, so the two judging passes (different label orders) give the same rationale. */
function rationale(request: string, candidates: FencedBlock[], best: string): string {
  const expression = findExpression(request);
  if (!expression) return 'The most complete and specific answer to the request.';
  const chosen = candidates.find((c) => c.label === best);
  if (chosen && statedNumber(chosen.text) !== expression.value) {
    return `No answer gives the correct result, ${expression.value}; this one says the most.`;
  }
  const wrong = candidates.filter((c) => statedNumber(c.text) !== expression.value).length;
  return wrong
    ? `Gives the correct result, ${expression.value} (${expression.source}); ${wrong} other ${wrong > 1 ? 'answers state' : 'answer states'} a different number.`
    : `Gives the correct result, ${expression.value} (${expression.source}), as every answer does; it is the clearest.`;
}

/** The response most consistent with the others: the majority result, or the most shared wording. */
export function uscVerdict(prompt: string): string {
  const { request, candidates } = read(prompt);
  const expression = findExpression(request);
  let best = candidates[0]?.label ?? 'A';
  let why = 'It shares the most substance with the other responses.';
  if (expression) {
    const counts = new Map<number | null, number>();
    for (const c of candidates) counts.set(statedNumber(c.text), (counts.get(statedNumber(c.text)) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    const pick = candidates.find((c) => statedNumber(c.text) === top?.[0]);
    if (pick) {
      best = pick.label;
      why = `It states ${top![0]}, the result most responses agree on.`;
    }
  } else if (candidates.length) {
    const words = candidates.map((c) => new Set(c.text.toLowerCase().match(/[a-z0-9]+/g) ?? []));
    const shared = words.map((w, i) =>
      words.reduce((sum, other, j) => (i === j ? sum : sum + jaccard(w, other)), 0),
    );
    const order = candidates
      .map((c, i) => ({ label: c.label, score: shared[i]!, tie: hash(c.text) }))
      .sort((a, b) => b.score - a.score || a.tie - b.tie);
    best = order[0]!.label;
  }
  return JSON.stringify({ best, rationale: why });
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let both = 0;
  for (const w of a) if (b.has(w)) both++;
  const union = a.size + b.size - both;
  return union ? both / union : 0;
}
