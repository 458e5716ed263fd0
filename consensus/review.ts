/**
 * Collaborative review (Self-Refine with a panel). Each round, every reviewer reads the current draft
 * and returns `{verdict, score, issues}`; the round's consolidated verdict is the majority (no majority
 * → revise), its score the mean, its issues the de-duplicated union. With an `author`, the draft is
 * revised against those issues and reviewed again. Stopping rules, checked after each round in order:
 *   accepted      — the consolidated verdict is accept;
 *   threshold     — the mean score ≥ threshold;
 *   no_author     — nobody can revise, so one round is all there is;
 *   no_new_issues — every issue raised was already raised in an earlier round (or none was raised):
 *                   another revision would chase the same complaints;
 *   max_rounds    — `rounds` review rounds have run.
 * The returned artifact is the best-scored draft (ties keep the earlier), since a revision can regress.
 *
 * Failures: a reviewer whose call fails or whose reply is unreadable is left out of its round and the
 * result says `degraded: ['reviewer_failed']`. A first round without one readable review has nothing to
 * answer with: a StrategyFailure listing every reviewer. A later such round (`reviewers_failed`) or a
 * failed revision (`author_failed`, also in `degraded`) ends the loop with the best draft reviewed so far.
 */
import { fenceBlock, fenceRules, tokenFor } from './fence.ts';
import { errorMessage, GatherError, type Gathered } from './gather.ts';
import { normalizeText } from './normalize.ts';
import { DEFAULT_SEED } from './prng.ts';
import { parseReview } from './review-parse.ts';
import { gatherSamples } from './samples.ts';
import { StrategyFailure } from './strategy-failure.ts';
import type {
  CandidateRecord,
  Complete,
  Completion,
  CompletionRequest,
  Degradation,
  Review,
  ReviewOptions,
  ReviewResult,
} from './types.ts';

/** Output cap for reviewer calls (verdict, score and an issue list). */
export const REVIEW_MAX_TOKENS = 2048;
export const DEFAULT_ROUNDS = 3;
export const DEFAULT_THRESHOLD = 8;
const UNREADABLE = 'unreadable review';

export function reviewerRequest(artifact: string, instructions: string, token: string): CompletionRequest {
  const system = [
    'You are a meticulous, fair reviewer. You review an artifact against the instructions it was written to satisfy.',
    fenceRules(token, 'The instructions and the artifact'),
    'List concrete, actionable issues (most important first); do not list praise or matters of taste. Verdict: accept if it is ready as is, revise if it needs changes, reject if it is unusable or fundamentally wrong. Score: 0 (unusable) to 10 (excellent).',
    'Reply with only a JSON object: {"verdict": "accept" | "revise" | "reject", "score": 0-10, "issues": ["…"]}',
  ].join('\n\n');
  const user = [
    'The instructions:',
    fenceBlock('INSTRUCTIONS', instructions, token),
    'The artifact to review:',
    fenceBlock('ARTIFACT', artifact, token),
    'Review the artifact. Reply with the JSON object only.',
  ].join('\n\n');
  return {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    temperature: 0,
    max_tokens: REVIEW_MAX_TOKENS,
  };
}

export function authorRequest(
  artifact: string,
  instructions: string,
  issues: readonly string[],
  token: string,
  maxTokens?: number,
): CompletionRequest {
  const system = [
    'You revise an artifact so that it satisfies its instructions and resolves the issues reviewers raised.',
    fenceRules(token, 'The instructions, the artifact and the issues'),
    'Address every issue that is valid; keep what already works. Reply with the complete revised artifact only — no preamble, no notes about the changes.',
  ].join('\n\n');
  const user = [
    'The instructions:',
    fenceBlock('INSTRUCTIONS', instructions, token),
    'The current artifact:',
    fenceBlock('ARTIFACT', artifact, token),
    'The reviewers’ issues:',
    fenceBlock('ISSUES', issues.map((issue, i) => `${i + 1}. ${issue}`).join('\n'), token),
  ].join('\n\n');
  return {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
  };
}

/** Majority verdict of the valid reviews; without a majority, revise. */
export function consolidate(reviews: readonly Review[]): Review['verdict'] {
  const valid = reviews.filter((r) => !r.error);
  for (const v of ['accept', 'reject', 'revise'] as const) {
    if (valid.filter((r) => r.verdict === v).length * 2 > valid.length) return v;
  }
  return 'revise';
}

export async function review(
  options: ReviewOptions,
  complete: Complete,
  signal: AbortSignal,
): Promise<ReviewResult> {
  const maxRounds = Math.max(1, Math.floor(options.rounds ?? DEFAULT_ROUNDS));
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const seed = options.seed ?? DEFAULT_SEED;
  const reviews: Review[] = [];
  const history: NonNullable<ReviewResult['history']> = [];
  const calls: Completion[] = [];
  const seen = new Set<string>();
  const drafts: { text: string; score: number }[] = [];
  let draft = options.artifact;
  let stoppedBy: ReviewResult['stopped_by'] = 'max_rounds';

  const degraded = new Set<Degradation>();

  for (let round = 1; ; round++) {
    const roundReviews = await reviewRound(draft, options, round, seed, complete, signal, calls);
    reviews.push(...roundReviews);
    const valid = roundReviews.filter((r) => !r.error);
    if (valid.length < roundReviews.length) degraded.add('reviewer_failed');
    if (!valid.length) {
      const attempts = roundReviews.map((r) => ({
        model: r.reviewer,
        role: 'reviewer' as const,
        error: r.error!,
      }));
      // Nothing reviewed at all: there is no answer to give. A revision nobody could read is dropped,
      // and the best draft reviewed so far stands.
      if (round === 1) {
        const answered = roundReviews.filter((r) => r.error === UNREADABLE).length;
        throw new StrategyFailure('no reviewer returned a readable review', attempts, { answered });
      }
      stoppedBy = 'reviewers_failed';
      break;
    }
    const verdict = consolidate(valid);
    const score = valid.reduce((s, r) => s + r.score, 0) / valid.length;
    const issues = mergeIssues(valid);
    const fresh = issues.filter((i) => !seen.has(normalizeText(i)));
    for (const i of issues) seen.add(normalizeText(i));
    history.push({ round, verdict, score, issues, new_issues: fresh.length });
    drafts.push({ text: draft, score });

    const stop: ReviewResult['stopped_by'] | undefined =
      verdict === 'accept'
        ? 'accepted'
        : score >= threshold
          ? 'threshold'
          : !options.author
            ? 'no_author'
            : fresh.length === 0
              ? 'no_new_issues'
              : round >= maxRounds
                ? 'max_rounds'
                : undefined;
    if (stop) {
      stoppedBy = stop;
      break;
    }
    const token = tokenFor(seed, [draft, ...issues], round);
    let revised: Completion;
    try {
      revised = await complete(
        options.author!,
        authorRequest(draft, options.instructions, issues, token, options.authorMaxTokens),
        signal,
      );
    } catch (error) {
      const attempt = { model: options.author!, role: 'author' as const, error: errorMessage(error) };
      if (signal.aborted)
        throw new StrategyFailure(`review round ${round}: stopped`, [attempt], { aborted: true });
      // The drafts reviewed so far still stand; the best of them is the answer.
      degraded.add('author_failed');
      stoppedBy = 'author_failed';
      break;
    }
    calls.push(revised);
    draft = revised.content;
  }

  let best = 0;
  drafts.forEach((d, i) => {
    if (d.score > drafts[best]!.score) best = i;
  });
  return {
    reviews,
    verdict: history.at(-1)!.verdict,
    score: drafts[best]!.score,
    artifact: drafts[best]!.text,
    best_round: best,
    rounds: history.length,
    stopped_by: stoppedBy,
    ...(degraded.size ? { degraded: [...degraded] } : {}),
    calls,
    history,
  };
}

/**
 * Every reviewer on one draft, in parallel; a failed or unreadable review is recorded with `error` (the
 * loop decides what a round without a readable review means). Rejects only when `signal` aborted.
 */
async function reviewRound(
  draft: string,
  options: ReviewOptions,
  round: number,
  seed: number,
  complete: Complete,
  signal: AbortSignal,
  calls: Completion[],
): Promise<Review[]> {
  const request = reviewerRequest(draft, options.instructions, tokenFor(seed, [draft], round));
  // A self-ensemble's reviewer samples are asked at their own temperatures instead of 0.
  const sampled = { models: options.reviewers, temperatures: options.reviewerTemperatures };
  let gathered: Gathered;
  try {
    gathered = await gatherSamples(request, sampled, complete, signal, 'reviewer');
  } catch (error) {
    // No reviewer answered: each is a failed review, unless the caller stopped the loop.
    if (!(error instanceof GatherError) || error.aborted) throw error;
    return error.records.map((rec) => failedReview(rec, round, rec.error ?? 'no answer'));
  }
  return gathered.records.map((rec, i): Review => {
    const answer = gathered.answers.find((a) => a.index === i);
    if (!answer) return failedReview(rec, round, rec.error ?? 'no answer');
    calls.push(answer.completion);
    const parsed = parseReview(answer.completion.content);
    return parsed
      ? { reviewer: answer.completion.model, ...sampledAt(rec), round, ...parsed }
      : failedReview(rec, round, UNREADABLE);
  });
}

const sampledAt = (rec: CandidateRecord) =>
  rec.temperature === undefined ? {} : { temperature: rec.temperature };

function failedReview(rec: CandidateRecord, round: number, error: string): Review {
  return { reviewer: rec.model, ...sampledAt(rec), round, verdict: 'revise', score: 0, issues: [], error };
}

/** The union of the reviewers' issues, first wording kept, duplicates (after normalisation) dropped. */
function mergeIssues(reviews: readonly Review[]): string[] {
  const out = new Map<string, string>();
  for (const r of reviews)
    for (const issue of r.issues) if (!out.has(normalizeText(issue))) out.set(normalizeText(issue), issue);
  return [...out.values()];
}
