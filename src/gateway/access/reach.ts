/**
 * The one authorization decision: every model a request can reach — the named model or alias, the
 * router's choice for `auto[:policy]`, a preset's members and judge, inline ensemble members, judge,
 * aggregator, reviewers and author, and every fallback of each — worked out and checked against the
 * team's allow-list before any call. What it returns is also what the request may call (each call
 * looks its chain up here) and what its budget hold is priced on, so the three cannot disagree.
 */
import type { ReviewOptions } from '../../../consensus/index.ts';
import type { ModelSpec } from '../../../routing/types.ts';
import type { ChatRequest } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import type { Catalog, Deployment } from '../deployments/index.ts';
import type { Caller } from './caller.ts';
import { buildChain } from './chain.ts';
import { type FanOutPlan, fanOutPlan, type NamedModel } from './fanout-plan.ts';
import { type Plan, planRequest } from './route.ts';

/** The chains a request may call, by the model name its strategy calls. */
export class Reach {
  readonly #chains = new Map<string, Deployment[]>();

  /** Records the chain a name's calls go through (a name named twice keeps its first chain). */
  add(name: string, chain: Deployment[]): void {
    if (!this.#chains.has(name)) this.#chains.set(name, chain);
  }

  /** The deployments a call to this name tries, in order; refuses a name the decision did not cover. */
  chain(name: string): Deployment[] {
    const chain = this.#chains.get(name);
    if (!chain) {
      // A strategy asking for a model nobody authorised is a bug here, never something a client did.
      throw new GatewayError('internal_error', `A call to \`${name}\` was not part of the request's plan.`);
    }
    return chain;
  }

  /** Every catalog entry a call to this name can end on. */
  specs(name: string): ModelSpec[] {
    return this.chain(name).map((d) => d.spec);
  }

  /** Every catalog id the request can reach, fallbacks included. */
  models(): Set<string> {
    const ids = new Set<string>();
    for (const chain of this.#chains.values()) for (const d of chain) ids.add(d.spec.id);
    return ids;
  }
}

export type Decision =
  | { kind: 'single'; plan: Plan; reach: Reach }
  | { kind: 'fanout'; plan: FanOutPlan; reach: Reach };

/**
 * Chains for models a fan-out or review names. A model the client named must be on the allow-list; one
 * named by an allowed preset's configuration is authorised by it. Fallbacks are always filtered by the
 * allow-list, the way a single request's are.
 */
export function reachNamed(
  catalog: Catalog,
  caller: Caller,
  named: readonly NamedModel[],
  task: ChatRequest,
  requestFallbacks?: readonly string[],
): Reach {
  const reach = new Reach();
  for (const { model, param, preset } of named) {
    if (AUTO_NAME.test(model)) {
      // `auto[:policy]` as a member, judge or reviewer: the router's choice for this task, within the
      // allow-list, with its fallbacks — decided once here, so the hold and the calls agree.
      reach.add(model, routedChain(catalog, caller, model, task, param));
      continue;
    }
    reach.add(model, buildChain(catalog, caller, model, requestFallbacks, { presetMember: preset, param }));
  }
  return reach;
}

const AUTO_NAME = /^auto(?::|$)/;

function routedChain(catalog: Catalog, caller: Caller, model: string, task: ChatRequest, param: string) {
  const { quorum, ...rest } = task;
  const request: ChatRequest = {
    ...rest,
    model,
    ...(quorum?.route ? { quorum: { route: quorum.route } } : {}),
  };
  try {
    return planRequest(catalog, caller, request).chain;
  } catch (err) {
    // The refusal names the field that asked for the router, not the request's `model`.
    if (err instanceof GatewayError && err.param === 'model') {
      throw new GatewayError(err.kind, err.message, {
        param,
        code: err.code,
        ...(err.headers ? { headers: err.headers } : {}),
      });
    }
    throw err;
  }
}

/**
 * A chat request (POST /v1/chat/completions, /v1/consensus, workflow llm, judge and ensemble steps):
 * a fan-out when it names a preset or carries `quorum.ensemble`, else one model's chain.
 */
export function authorizeChat(catalog: Catalog, caller: Caller, request: ChatRequest): Decision {
  const fan = fanOutPlan(catalog, caller, request);
  if (fan) {
    return {
      kind: 'fanout',
      plan: fan,
      reach: reachNamed(catalog, caller, fan.named, request, request.quorum?.fallbacks),
    };
  }
  const plan = planRequest(catalog, caller, request);
  const reach = new Reach();
  reach.add(plan.route?.chosen ?? request.model, plan.chain);
  return { kind: 'single', plan, reach };
}

/** A collaborative review (POST /v1/reviews, workflow review steps): every reviewer and the author. */
export function authorizeReview(
  catalog: Catalog,
  caller: Caller,
  options: Pick<ReviewOptions, 'reviewers' | 'author'> &
    Partial<Pick<ReviewOptions, 'artifact' | 'instructions'>>,
): Reach {
  const named: NamedModel[] = options.reviewers.map((model, i) => ({
    model,
    param: `reviewers[${i}]`,
    preset: false,
  }));
  if (options.author) named.push({ model: options.author, param: 'author', preset: false });
  // What a routed reviewer or author is chosen for: the instructions and the artifact they read.
  const task: ChatRequest = {
    model: 'auto',
    messages: [{ role: 'user', content: `${options.instructions ?? ''}\n\n${options.artifact ?? ''}` }],
  };
  return reachNamed(catalog, caller, named, task);
}
