import { plannedCalls, plannedReviewCalls } from '../../consensus/index.ts';
import { worstCaseCost } from '../../routing/filter.ts';
import type { TaskProfile } from '../../routing/route-types.ts';
import type { ChatRequest } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import type { Caller } from './caller.ts';
import type { Gateway } from './gateway.ts';

export type FanOutStrategy = 'consensus' | 'best_of_n' | 'ensemble' | 'review';

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
}

function resolvable(gw: Gateway, name: string): boolean {
  return gw.table.resolve(name).length > 0;
}

/**
 * The fan-out a request asks for — an ensemble preset used as the model name, or the `quorum.ensemble`
 * body field — or null for an ordinary request. A preset the team may use brings its members with it;
 * inline models must each be on the allow-list.
 */
export function fanOutPlan(gw: Gateway, caller: Caller, request: ChatRequest): FanOutPlan | null {
  const preset = gw.config.ensembles[request.model];
  const inline = request.quorum?.ensemble;
  if (!preset && !inline) return null;
  if (preset && caller.allowedModels && !caller.allowedModels.has(request.model)) {
    throw new GatewayError(
      'model_not_allowed',
      `Team \`${caller.team}\` may not use the preset \`${request.model}\`.`,
      {
        param: 'model',
      },
    );
  }
  const extra = (preset ?? {}) as Record<string, unknown>;
  const plan: FanOutPlan = {
    name: preset ? request.model : 'quorum.ensemble',
    strategy: inline?.strategy ?? preset!.strategy,
    models: inline?.models ?? preset?.models ?? [],
    ...((inline?.judge ?? preset?.judge) ? { judge: inline?.judge ?? preset?.judge } : {}),
    ...((inline?.quorum ?? preset?.quorum) ? { quorum: inline?.quorum ?? preset?.quorum } : {}),
    ...(preset?.timeout_ms ? { timeoutMs: preset.timeout_ms } : {}),
    ...((inline?.layers ?? extra.layers) ? { layers: (inline?.layers ?? extra.layers) as number } : {}),
    ...(typeof extra.rounds === 'number' ? { rounds: extra.rounds } : {}),
  };
  if (!plan.models.length) {
    throw new GatewayError(
      'invalid_body',
      'quorum.ensemble.models: name the candidate models (or use a preset).',
      {
        param: 'quorum.ensemble.models',
      },
    );
  }
  const named: [string, string][] = plan.models.map((m, i) => [m, `quorum.ensemble.models[${i}]`]);
  if (plan.judge) named.push([plan.judge, 'quorum.ensemble.judge']);
  for (const [model, param] of named) {
    if (!resolvable(gw, model)) {
      throw new GatewayError('model_not_found', `The model \`${model}\` does not exist.`, { param });
    }
    if (!preset && caller.allowedModels && !caller.allowedModels.has(model)) {
      throw new GatewayError(
        'model_not_allowed',
        `Team \`${caller.team}\` may not use the model \`${model}\`.`,
        { param },
      );
    }
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
      {
        param: 'quorum.ensemble.quorum',
      },
    );
  }
  return plan;
}

/** The most expensive deployment of a name, so the bound holds whichever one answers. */
function priciest(gw: Gateway, name: string, task: TaskProfile): number {
  let most = 0;
  for (const spec of gw.table.resolve(name)) most = Math.max(most, worstCaseCost(spec, task));
  return most;
}

/** Output tokens a model may write for this task: the request's limit, else the model's own. */
function maxOutput(gw: Gateway, name: string, task: TaskProfile): number {
  let most = 0;
  for (const spec of gw.table.resolve(name))
    most = Math.max(most, task.maxOutputTokens ?? spec.max_output_tokens);
  return most;
}

/** Instructions a judge, aggregator, reviewer or author prompt adds around the material it reads. */
const INSTRUCTION_TOKENS = 500;

/**
 * The worst-case cost of a whole fan-out, for budget reservation: every call the strategy may make
 * (consensus/plannedCalls lists them) at its maximum. Judges, aggregators, reviewers and authors read
 * the request plus every candidate's maximum output, and write at most what the strategy allows.
 */
export function maxCost(gw: Gateway, plan: FanOutPlan, task: TaskProfile): number {
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
  const candidateOutput = plan.models.reduce((sum, m) => sum + maxOutput(gw, m, task), 0);
  const reading: TaskProfile = {
    ...task,
    promptTokens: task.promptTokens + candidateOutput + INSTRUCTION_TOKENS,
  };
  return calls.reduce((sum, call) => {
    if (call.role === 'candidate') return sum + priciest(gw, call.model, task);
    const t = call.maxTokens ? { ...reading, maxOutputTokens: call.maxTokens } : reading;
    return sum + priciest(gw, call.model, t);
  }, 0);
}

/** The worst-case cost of a POST /v1/reviews call: every review and revision the loop may make. */
export function reviewReserve(
  gw: Gateway,
  body: { artifact: string; instructions: string; reviewers: string[]; author?: string; rounds?: number },
): number {
  const artifactTokens =
    Math.ceil((body.artifact.length + body.instructions.length) / 4) + INSTRUCTION_TOKENS;
  const calls = plannedReviewCalls({
    artifact: body.artifact,
    instructions: body.instructions,
    reviewers: body.reviewers,
    ...(body.author ? { author: body.author } : {}),
    ...(body.rounds ? { rounds: body.rounds } : {}),
  });
  return calls.reduce((sum, call) => {
    // A revision can be as long as the model writes; it then becomes the next round's prompt.
    const task: TaskProfile = {
      categories: { general: 1, code: 0, math: 0, reasoning: 0, writing: 0 },
      difficulty: 0,
      required: [],
      promptTokens: artifactTokens + maxOutput(gw, call.model, NO_LIMIT),
      maxOutputTokens: call.maxTokens ?? null,
    };
    return sum + priciest(gw, call.model, task);
  }, 0);
}

const NO_LIMIT: TaskProfile = {
  categories: { general: 1, code: 0, math: 0, reasoning: 0, writing: 0 },
  difficulty: 0,
  required: [],
  promptTokens: 0,
  maxOutputTokens: null,
};
