/**
 * What a fan-out request asks for (an ensemble preset used as the model name, or the `quorum.ensemble`
 * body field, or both). Which of its models the caller may reach is decided in reach.ts, the worst case
 * it can cost in reserve.ts; this file only says who named each model.
 */
import type { ChatRequest } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import type { Catalog } from '../deployments/index.ts';
import type { Caller } from './caller.ts';
import { ownValue } from './own-key.ts';

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
export function fanOutPlan(catalog: Catalog, caller: Caller, request: ChatRequest): FanOutPlan | null {
  const preset = ownValue(catalog.config.ensembles, request.model);
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
