/**
 * What a fan-out request asks for (an ensemble preset used as the model name, or the `quorum.ensemble`
 * body field, or both). Which of its models the caller may reach is decided in reach.ts, the worst case
 * it can cost in reserve.ts; this file only says who named each model.
 */
import { type ChatRequest, expandMembers, memberModel } from '../../chat/index.ts';
import type { EnsembleConfig } from '../../config/index.ts';
import { GatewayError } from '../../errors/index.ts';
import type { Catalog } from '../deployments/index.ts';
import type { Caller } from './caller.ts';
import { ownValue } from './own-key.ts';

export type FanOutStrategy = 'consensus' | 'best_of_n' | 'ensemble' | 'fusion' | 'review';

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
  /** The candidates, one per sample (a self-ensemble's model repeats). */
  models: string[];
  /** Each candidate's temperature, by position in `models`, when a self-ensemble chose any. */
  temperatures?: (number | undefined)[];
  judge?: string;
  /** fusion: writes the final answer (default: the judge). */
  synthesizer?: string;
  quorum?: number;
  timeoutMs?: number;
  /** ensemble: proposer layers; review: rounds. */
  layers?: number;
  rounds?: number;
  /** Every member and the judge, each with where it came from. */
  named: NamedModel[];
}

/** Strategies that cannot run without a judge (scorer, aggregator, analyst). */
const JUDGED = new Set<FanOutStrategy>(['best_of_n', 'ensemble', 'fusion']);

/**
 * The fan-out a request asks for, or null for an ordinary request. A preset must be on the team's
 * allow-list; inline `models`/`judge`/`synthesizer` replace the preset's and are the client's own
 * choice. Self-ensemble members are expanded here: one candidate per sample, with its temperature.
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
  const { samples, named } = candidates(preset, inline);
  const judge = inline?.judge ?? preset?.judge;
  const synthesizer = inline?.synthesizer ?? preset?.synthesizer;
  for (const [field, model] of [
    ['judge', judge],
    ['synthesizer', synthesizer],
  ] as const) {
    if (!model) continue;
    const own = inline?.[field] !== undefined;
    named.push({ model, param: own ? `quorum.ensemble.${field}` : 'model', preset: !own });
  }
  const temperatures = samples.map((s) => s.temperature);
  const plan: FanOutPlan = {
    name: preset ? request.model : 'quorum.ensemble',
    strategy: inline?.strategy ?? preset!.strategy,
    models: samples.map((s) => s.model),
    ...(temperatures.some((t) => t !== undefined) ? { temperatures } : {}),
    ...(judge ? { judge } : {}),
    ...(synthesizer ? { synthesizer } : {}),
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
  if (JUDGED.has(plan.strategy) && !plan.judge) {
    throw new GatewayError(
      'invalid_body',
      `The ${plan.strategy} strategy needs a judge model (quorum.ensemble.judge, or the preset's judge).`,
      { param: 'quorum.ensemble.judge' },
    );
  }
  if (plan.synthesizer && plan.strategy !== 'fusion') {
    throw new GatewayError(
      'invalid_body',
      `Only the fusion strategy has a synthesizer; the ${plan.strategy} strategy does not take one.`,
      { param: 'quorum.ensemble.synthesizer' },
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

type Inline = NonNullable<NonNullable<ChatRequest['quorum']>['ensemble']>;

/**
 * The candidates, one per sample with its temperature, and the members as named models. A preset's
 * sampling goes with its members; inline sampling applies to whichever members are used.
 */
function candidates(preset: EnsembleConfig | undefined, inline: Inline | undefined) {
  const own = inline?.models !== undefined;
  const members = inline?.models ?? preset?.models ?? [];
  const sampling = own
    ? inline
    : {
        samples: inline?.samples ?? preset?.samples,
        temperatures: inline?.temperatures ?? preset?.temperatures,
      };
  const { samples, problems } = expandMembers(members, sampling);
  if (problems[0]) {
    const inlineSampling = inline?.samples !== undefined || inline?.temperatures !== undefined;
    const param = own
      ? `quorum.ensemble.models${problems[0].path}`
      : inlineSampling
        ? 'quorum.ensemble.temperatures'
        : 'model';
    throw new GatewayError('invalid_body', `${param}: ${problems[0].message}`, { param });
  }
  const named: NamedModel[] = members.map((member, i) => ({
    model: memberModel(member),
    param: own ? `quorum.ensemble.models[${i}]${typeof member === 'string' ? '' : '.model'}` : 'model',
    preset: !own,
  }));
  return { samples, named };
}
