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
 */
import { fenceBlock, fenceRules, tokenFor } from './fence.ts';
import { GatherError, gather } from './gather.ts';
import { normalizeText } from './normalize.ts';
import { DEFAULT_SEED } from './prng.ts';
import { parseReview } from './review-parse.ts';
import type {
  Complete,
  Completion,
  CompletionRequest,
  Review,
  ReviewOptions,
  ReviewResult,
} from './types.ts';

/** Output cap for reviewer calls (verdict, score and an issue list). */
export const REVIEW_MAX_TOKENS = 2048;
export const DEFAULT_ROUNDS = 3;
export const DEFAULT_THRESHOLD = 8;

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

  for (let round = 1; ; round++) {
    const roundReviews = await reviewRound(draft, options, round, seed, complete, signal, calls);
    reviews.push(...roundReviews);
    const valid = roundReviews.filter((r) => !r.error);
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
    const revised = await complete(
      options.author!,
      authorRequest(draft, options.instructions, issues, token, options.authorMaxTokens),
      signal,
    );
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
    calls,
    history,
  };
}

/** Every reviewer on one draft, in parallel; a failed or unreadable review is recorded with `error`. */
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
  let gathered: Awaited<ReturnType<typeof gather>>;
  try {
    gathered = await gather(options.reviewers, request, complete, signal);
  } catch (error) {
    if (error instanceof GatherError)
      error.message = `review round ${round}: no reviewer answered; ${error.message}`;
    throw error;
  }
  const reviews = gathered.records.map((rec, i): Review => {
    const answer = gathered.answers.find((a) => a.index === i);
    if (!answer) return failedReview(options.reviewers[i]!, round, rec.error ?? 'no answer');
    calls.push(answer.completion);
    const parsed = parseReview(answer.completion.content);
    return parsed
      ? { reviewer: answer.completion.model, round, ...parsed }
      : failedReview(answer.completion.model, round, 'unreadable review');
  });
  if (!reviews.some((r) => !r.error)) {
    throw new Error(
      `review round ${round}: no readable review (${reviews.map((r) => `${r.reviewer}: ${r.error}`).join('; ')})`,
    );
  }
  return reviews;
}

function failedReview(reviewer: string, round: number, error: string): Review {
  return { reviewer, round, verdict: 'revise', score: 0, issues: [], error };
}

/** The union of the reviewers' issues, first wording kept, duplicates (after normalisation) dropped. */
function mergeIssues(reviews: readonly Review[]): string[] {
  const out = new Map<string, string>();
  for (const r of reviews)
    for (const issue of r.issues) if (!out.has(normalizeText(issue))) out.set(normalizeText(issue), issue);
  return [...out.values()];
}
