/**
 * What a fan-out request asks for (an ensemble preset used as the model name, or the `quorum.ensemble`
 * body field, or both) and the worst case it can cost. Which of its models the caller may reach is
 * decided in reach.ts; this file only says who named each model.
 */
import { plannedCalls, plannedReviewCalls, REVIEW_MAX_TOKENS } from '../../consensus/index.ts';
import { worstCaseCost } from '../../routing/filter.ts';
import type { TaskProfile } from '../../routing/route-types.ts';
import { maxPromptTokens } from '../../routing/tokens.ts';
import type { ModelSpec } from '../../routing/types.ts';
import type { ChatRequest } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import type { Caller } from './caller.ts';
import type { Gateway } from './gateway.ts';
import { ownValue } from './own-key.ts';
import type { Reach } from './reach.ts';

export type FanOutStrategy = 'consensus' | 'best_of_n' | 'ensemble' | 'review';

/** A model a fan-out calls, and who chose it. */
export interface NamedModel {
  model: string;
  /** The request field that named it, for errors. */
  param: string;
  /**
   * True when the operator's preset configuration named it (authorised by the team's right to use the
   * preset); false when the client did, so it must be on the allow-list itself.
   */
  preset: boolean;
}

/** A request that fans out: its strategy and the models it calls. */
export interface FanOutPlan {
  /** The preset name, or `quorum.ensemble` for an inline one. */
  name: string;
  strategy: FanOutStrategy;
  models: string[];
  judge?: string;
  quorum?: number;
  timeoutMs?: number;
  /** ensemble: proposer layers; review: rounds. */
  layers?: number;
  rounds?: number;
  /** Every member and the judge, each with where it came from. */
  named: NamedModel[];
}

/**
 * The fan-out a request asks for, or null for an ordinary request. A preset must be on the team's
 * allow-list; inline `models`/`judge` replace the preset's and are the client's own choice.
 */
export function fanOutPlan(gw: Gateway, caller: Caller, request: ChatRequest): FanOutPlan | null {
  const preset = ownValue(gw.config.ensembles, request.model);
  const inline = request.quorum?.ensemble;
  if (!preset && !inline) return null;
  if (preset && caller.allowedModels && !caller.allowedModels.has(request.model)) {
    throw new GatewayError(
      'model_not_allowed',
      `Team \`${caller.team}\` may not use the preset \`${request.model}\`.`,
      { param: 'model' },
    );
  }
  const extra = (preset ?? {}) as Record<string, unknown>;
  const models = inline?.models ?? preset?.models ?? [];
  const judge = inline?.judge ?? preset?.judge;
  const named: NamedModel[] = inline?.models
    ? inline.models.map((model, i) => ({ model, param: `quorum.ensemble.models[${i}]`, preset: false }))
    : models.map((model) => ({ model, param: 'model', preset: true }));
  if (inline?.judge) named.push({ model: inline.judge, param: 'quorum.ensemble.judge', preset: false });
  else if (judge) named.push({ model: judge, param: 'model', preset: true });
  const plan: FanOutPlan = {
    name: preset ? request.model : 'quorum.ensemble',
    strategy: inline?.strategy ?? preset!.strategy,
    models,
    ...(judge ? { judge } : {}),
    ...((inline?.quorum ?? preset?.quorum) ? { quorum: inline?.quorum ?? preset?.quorum } : {}),
    ...(preset?.timeout_ms ? { timeoutMs: preset.timeout_ms } : {}),
    ...((inline?.layers ?? extra.layers) ? { layers: (inline?.layers ?? extra.layers) as number } : {}),
    ...(typeof extra.rounds === 'number' ? { rounds: extra.rounds } : {}),
    named,
  };
  if (!plan.models.length) {
    throw new GatewayError(
      'invalid_body',
      'quorum.ensemble.models: name the candidate models (or use a preset).',
      { param: 'quorum.ensemble.models' },
    );
  }
  if ((plan.strategy === 'best_of_n' || plan.strategy === 'ensemble') && !plan.judge) {
    throw new GatewayError(
      'invalid_body',
      `The ${plan.strategy} strategy needs a judge model (quorum.ensemble.judge, or the preset's judge).`,
      { param: 'quorum.ensemble.judge' },
    );
  }
  if (plan.quorum !== undefined && plan.quorum > plan.models.length) {
    throw new GatewayError(
      'invalid_body',
      `quorum.ensemble.quorum is ${plan.quorum} but only ${plan.models.length} models are named.`,
      { param: 'quorum.ensemble.quorum' },
    );
  }
  return plan;
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
 * candidate's maximum output, and write at most what the strategy allows.
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
          ...(plan.layers ? { layers: plan.layers } : {}),
        });
  const candidateOutput = plan.models.reduce((sum, m) => sum + maxOutput(reach.specs(m), task), 0);
  const answers = candidateOutput + INSTRUCTION_TOKENS;
  // Both counts grow by the answers: the hold prices the upper one, which is the one that must.
  const reading: TaskProfile = {
    ...task,
    promptTokens: task.promptTokens + answers,
    promptTokensMax: (task.promptTokensMax ?? task.promptTokens) + answers,
  };
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
    const read = call.role === 'author' ? revising : reading;
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
