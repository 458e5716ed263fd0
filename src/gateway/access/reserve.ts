/**
 * The worst case a request can cost — a model's chain, a whole fan-out, a review loop — priced on every
 * deployment it can reach, for its budget hold; and what would fit a budget's remainder.
 */
import { plannedCalls, plannedReviewCalls, REVIEW_MAX_TOKENS } from '../../../consensus/index.ts';
import { outputTokensWithin, worstCaseCost } from '../../../routing/filter.ts';
import type { CostBounds, TaskProfile } from '../../../routing/route-types.ts';
import { maxPromptTokens } from '../../../routing/tokens.ts';
import type { ModelSpec } from '../../../routing/types.ts';
import type { FanOutPlan } from './fanout-plan.ts';
import type { Reach } from './reach.ts';
import type { Plan } from './route.ts';

/**
 * The most this request can cost on any deployment of its chain (it may fall back to the priciest),
 * from its cost bounds (`costBounds(request)`, or the router's analysis when it routed).
 */
export function chainReserve(plan: Plan, task: CostBounds): number {
  let most = 0;
  for (const dep of plan.chain) most = Math.max(most, worstCaseCost(dep.spec, task));
  return most;
}

/**
 * What would fit a budget's remainder: the largest `max_tokens` every deployment of the chain could
 * answer within it, or that even the prompt may not fit.
 */
export function chainFit(plan: Plan, task: CostBounds, remainingUsd: number): string {
  let fits = Number.POSITIVE_INFINITY;
  for (const dep of plan.chain) fits = Math.min(fits, outputTokensWithin(dep.spec, task, remainingUsd));
  const fallbacks =
    plan.chain.length > 1
      ? ' (fallbacks included; `"quorum": {"fallbacks": []}` counts this model alone)'
      : '';
  return fits >= 1
    ? `With \`max_tokens\` of at most ${fits} it would fit the remaining budget${fallbacks}.`
    : `Even its prompt may cost more than the remaining budget${fallbacks}.`;
}

/**
 * The most expensive deployment a call to this name can end on — its own or any fallback the caller
 * may reach — so the bound holds whichever one answers.
 */
function priciest(specs: readonly ModelSpec[], task: TaskProfile): number {
  let most = 0;
  for (const spec of specs) most = Math.max(most, worstCaseCost(spec, task));
  return most;
}

/** Output tokens a call may write for this task: the request's limit, else the longest in its chain. */
function maxOutput(specs: readonly ModelSpec[], task: TaskProfile): number {
  let most = 0;
  for (const spec of specs) most = Math.max(most, task.maxOutputTokens ?? spec.max_output_tokens);
  return most;
}

/** Instructions a judge, aggregator, reviewer or author prompt adds around the material it reads. */
const INSTRUCTION_TOKENS = 500;

/**
 * The worst-case cost of a whole fan-out, for budget reservation: every call the strategy may make
 * (consensus/plannedCalls lists them), each priced on the dearest deployment its chain can fall back
 * to. Judges, aggregators, reviewers, authors and later proposer layers read the request plus every
 * candidate's maximum output (fusion's synthesizer also the analysis), and write at most what the
 * strategy allows.
 */
export function maxCost(plan: FanOutPlan, task: TaskProfile, reach: Reach): number {
  const calls =
    plan.strategy === 'review'
      ? [
          { model: plan.models[0]!, role: 'candidate' as const },
          ...plannedReviewCalls({
            artifact: '',
            instructions: '',
            reviewers: plan.models.slice(1),
            author: plan.models[0]!,
            ...(plan.rounds ? { rounds: plan.rounds } : {}),
          }),
        ]
      : plannedCalls(plan.strategy, {
          models: plan.models,
          ...(plan.judge ? { judge: plan.judge } : {}),
          ...(plan.synthesizer ? { synthesizer: plan.synthesizer } : {}),
          ...(plan.layers ? { layers: plan.layers } : {}),
        });
  const candidateOutput = plan.models.reduce((sum, m) => sum + maxOutput(reach.specs(m), task), 0);
  // Both counts grow by what the call reads besides the request: the hold prices the upper one.
  const readingWith = (extra: number): TaskProfile => ({
    ...task,
    promptTokens: task.promptTokens + candidateOutput + extra,
    promptTokensMax: (task.promptTokensMax ?? task.promptTokens) + candidateOutput + extra,
  });
  const reading = readingWith(INSTRUCTION_TOKENS);
  // A review's author also reads the round's issues: every reviewer's whole answer, at most.
  const issues = plan.strategy === 'review' ? (plan.models.length - 1) * REVIEW_MAX_TOKENS : 0;
  const revising: TaskProfile = {
    ...reading,
    promptTokens: reading.promptTokens + issues,
    promptTokensMax: reading.promptTokensMax! + issues,
  };
  let proposals = 0;
  return calls.reduce((sum, call) => {
    // The first layer of proposers reads the request alone; any later layer reads the answers too.
    if (call.role === 'candidate' && proposals++ < plan.models.length)
      return sum + priciest(reach.specs(call.model), task);
    // A strategy that knows its own prompt's size (fusion's analyst and synthesizer) says so.
    const read =
      call.role === 'author' ? revising : call.promptTokens ? readingWith(call.promptTokens) : reading;
    const t = call.maxTokens ? { ...read, maxOutputTokens: call.maxTokens } : read;
    return sum + priciest(reach.specs(call.model), t);
  }, 0);
}

/** The worst-case cost of a POST /v1/reviews call: every review and revision the loop may make. */
export function reviewReserve(
  body: { artifact: string; instructions: string; reviewers: string[]; author?: string; rounds?: number },
  reach: Reach,
): number {
  // The upper-bound count, as for any prompt a hold is priced on (Han text may bill 3 tokens a character).
  const artifactTokens =
    maxPromptTokens([{ role: 'user', content: `${body.instructions}\n\n${body.artifact}` }]) +
    INSTRUCTION_TOKENS;
  const calls = plannedReviewCalls({
    artifact: body.artifact,
    instructions: body.instructions,
    reviewers: body.reviewers,
    ...(body.author ? { author: body.author } : {}),
    ...(body.rounds ? { rounds: body.rounds } : {}),
  });
  // A revision can be as long as the author writes; it then becomes the next round's prompt.
  const revision = body.author ? maxOutput(reach.specs(body.author), NO_LIMIT) : 0;
  // The author also reads the round's issues: every reviewer's whole answer, at most.
  const issues = body.reviewers.length * REVIEW_MAX_TOKENS;
  return calls.reduce((sum, call) => {
    const task: TaskProfile = {
      ...NO_LIMIT,
      promptTokens:
        artifactTokens +
        Math.max(revision, maxOutput(reach.specs(call.model), NO_LIMIT)) +
        (call.role === 'author' ? issues : 0),
      maxOutputTokens: call.maxTokens ?? null,
    };
    return sum + priciest(reach.specs(call.model), task);
  }, 0);
}

const NO_LIMIT: TaskProfile = {
  categories: { general: 1, code: 0, math: 0, reasoning: 0, writing: 0 },
  difficulty: 0,
  required: [],
  promptTokens: 0,
  maxOutputTokens: null,
};
