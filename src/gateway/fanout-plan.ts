import { worstCaseCost } from '../../routing/filter.ts';
import type { TaskProfile } from '../../routing/route-types.ts';
import type { ModelSpec } from '../../routing/types.ts';
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
    ...(typeof extra.layers === 'number' ? { layers: extra.layers } : {}),
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
function priciest(gw: Gateway, name: string, task: TaskProfile): { spec: ModelSpec; cost: number } {
  let best: { spec: ModelSpec; cost: number } | undefined;
  for (const spec of gw.table.resolve(name)) {
    const cost = worstCaseCost(spec, task);
    if (!best || cost > best.cost) best = { spec, cost };
  }
  return best!;
}

/**
 * The worst-case cost of a whole fan-out, for budget reservation: every candidate at its maximum, plus
 * every judge/aggregator/reviewer call with a prompt that carries all candidates' maximum outputs.
 */
export function maxCost(gw: Gateway, plan: FanOutPlan, task: TaskProfile): number {
  const candidates = plan.models.map((m) => priciest(gw, m, task));
  const outputs = candidates.reduce((sum, c) => sum + (task.maxOutputTokens ?? c.spec.max_output_tokens), 0);
  const candidateCost = candidates.reduce((sum, c) => sum + c.cost, 0);
  // A judge reads the question and every candidate; 500 tokens cover its instructions.
  const judgeTask: TaskProfile = { ...task, promptTokens: task.promptTokens + outputs + 500 };
  const judgeCost = plan.judge ? priciest(gw, plan.judge, judgeTask).cost : 0;
  switch (plan.strategy) {
    case 'consensus':
      return candidateCost + judgeCost;
    case 'best_of_n':
      return candidateCost + 2 * judgeCost; // judged in both orders
    case 'ensemble':
      return (plan.layers ?? 1) * candidateCost + judgeCost;
    case 'review': {
      // models[0] drafts, the others review; each round re-reviews and revises.
      const rounds = plan.rounds ?? 3;
      const [author, ...reviewers] = candidates;
      const reviewCost = reviewers.reduce((sum, r) => sum + priciest(gw, r.spec.id, judgeTask).cost, 0);
      const authorCost = author ? priciest(gw, author.spec.id, judgeTask).cost : 0;
      return (author?.cost ?? 0) + rounds * (reviewCost + authorCost);
    }
  }
}
