/**
 * What an outcome says about a model, as a score in 0..1 (1: the answer was right), read from records
 * the gateway already builds. Pure: a fan-out's `quorum` record in, one signal per candidate out.
 *
 * | signal | score | from |
 * |---|---|---|
 * | `feedback` | the app's score | POST /v1/feedback |
 * | `judge_score` | judge's score / 10 | best_of_n (any strategy whose candidates carry `score`) |
 * | `consensus_agreement` | 1 in the chosen answer's group, else 0 | consensus, when at least two candidates agreed |
 * | `review_verdict` | mean reviewer score / 10 | review: round 1 for the drafting model; the author's revisions in POST /v1/reviews |
 * | `schema_failure` | 0 | a `json_schema` answer that is not valid JSON for its schema |
 * | `correction` | 0 | PUT /v1/runs/:id/steps/:step/output: a person replaced the step's answer |
 */

export type SignalName =
  | 'feedback'
  | 'judge_score'
  | 'consensus_agreement'
  | 'review_verdict'
  | 'schema_failure'
  | 'correction';

export interface CandidateSignal {
  /** Index in `quorum.candidates`. */
  index: number;
  model: string;
  signal: SignalName;
  value: number;
}

interface CandidateView {
  model?: unknown;
  content?: unknown;
  score?: unknown;
  error?: unknown;
  role?: unknown;
}

interface ReviewView {
  round?: unknown;
  score?: unknown;
  error?: unknown;
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Candidates that answered (an error is the health tracker's business, not quality's). */
function answered(
  record: Readonly<Record<string, unknown>>,
): { index: number; model: string; c: CandidateView }[] {
  const candidates = Array.isArray(record.candidates) ? (record.candidates as CandidateView[]) : [];
  const out: { index: number; model: string; c: CandidateView }[] = [];
  candidates.forEach((c, index) => {
    if (!c || typeof c !== 'object' || c.error !== undefined || typeof c.model !== 'string') return;
    // An ensemble's aggregator row is the synthesis of the others, not a candidate of its own.
    if (c.role === 'aggregator') return;
    out.push({ index, model: c.model, c });
  });
  return out;
}

/** The mean score (0..10) of the readable reviews of one round, or null when there is none. */
export function roundScore(reviews: readonly ReviewView[], round: (r: number) => boolean): number | null {
  let sum = 0;
  let n = 0;
  for (const r of reviews) {
    if (r.error !== undefined || typeof r.round !== 'number' || typeof r.score !== 'number') continue;
    if (!round(r.round)) continue;
    sum += r.score;
    n++;
  }
  return n ? sum / n : null;
}

/** One signal per candidate the record says something about. */
export function fanOutSignals(record: Readonly<Record<string, unknown>>): CandidateSignal[] {
  const candidates = answered(record);
  const strategy = record.strategy;
  if (strategy === 'review') {
    // Round 1 reviews the first model's own draft; later rounds review its revisions of their notes.
    const review = record.review as { reviews?: ReviewView[] } | undefined;
    const draft = candidates.find((c) => c.index === 0);
    const score = roundScore(review?.reviews ?? [], (r) => r === 1);
    if (!draft || score === null) return [];
    return [{ index: 0, model: draft.model, signal: 'review_verdict', value: round4(clamp01(score / 10)) }];
  }
  const scored = candidates.filter((c) => typeof c.c.score === 'number' && Number.isFinite(c.c.score));
  if (scored.length) {
    return scored.map(({ index, model, c }) => ({
      index,
      model,
      signal: 'judge_score' as const,
      value: round4(clamp01((c.score as number) / 10)),
    }));
  }
  if (strategy === 'consensus' && Array.isArray(record.groups) && candidates.length >= 2) {
    const selected = (record.selected as { index?: unknown } | undefined)?.index;
    const groups = record.groups as { members?: unknown }[];
    const chosen = groups.find((g) => Array.isArray(g.members) && g.members.includes(selected));
    const members = (chosen?.members ?? []) as number[];
    // Nobody agreed with anybody: the pick says little about who was right.
    if (members.length < 2) return [];
    return candidates.map(({ index, model }) => ({
      index,
      model,
      signal: 'consensus_agreement' as const,
      value: members.includes(index) ? 1 : 0,
    }));
  }
  return [];
}
