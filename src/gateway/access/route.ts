/**
 * A single request's plan: the named model's chain, or the router's choice for `auto[:policy]` and its
 * fallbacks (the router sees only the team's allow-list); and the dry run behind POST /v1/route.
 */
import { analyzeTask } from '../../../routing/analyze.ts';
import { route } from '../../../routing/route.ts';
import type { RoutePlan } from '../../../routing/route-types.ts';
import type { Policy } from '../../../routing/types.ts';
import type { ChatRequest } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import { reportedUsd } from '../../limits/nanos.ts';
import { ATTR_QUORUM_COST_USD, failSpan, tracer } from '../../telemetry/index.ts';
import type { Catalog, Deployment } from '../deployments/index.ts';
import type { Caller } from './caller.ts';
import { buildChain } from './chain.ts';
import { learnedQuality } from './learned.ts';
import { ownRecord } from './own-key.ts';

const AUTO = /^auto(?::(cost|quality|latency|balanced))?$/;

/** The policy an `auto` name asks for, or null when the name is not `auto[:policy]`. */
export function autoPolicy(catalog: Catalog, request: ChatRequest): Policy | null {
  const match = AUTO.exec(request.model);
  if (!match) {
    if (request.model.startsWith('auto:')) {
      throw new GatewayError(
        'model_not_found',
        `Unknown routing policy in \`${request.model}\`: use auto, auto:cost, auto:quality, auto:latency or auto:balanced.`,
        { param: 'model' },
      );
    }
    return null;
  }
  return (match[1] as Policy | undefined) ?? request.quorum?.route?.policy ?? catalog.config.routing.policy;
}

/** Runs the router inside its `quorum.route` span. Pure decision; no upstream call. */
export function decide(
  catalog: Catalog,
  caller: Caller,
  request: ChatRequest,
  policy: Policy,
  models?: readonly string[],
): RoutePlan {
  return tracer.startActiveSpan('quorum.route', (span) => {
    try {
      const options = request.quorum?.route;
      // The learnt quality goes in through the table the router already reads (same specs, same order).
      const specs = catalog.learning?.models() ?? catalog.table.models;
      const plan = route(specs, analyzeTask(request), catalog.health.view, {
        policy,
        ...(options?.min_quality !== undefined ? { minQuality: options.min_quality } : {}),
        ...(options?.max_cost_usd !== undefined ? { maxCostUsd: options.max_cost_usd } : {}),
        ...((models ?? options?.models) ? { models: models ?? options?.models } : {}),
        allowList: caller.allowedModels,
        fallbacks: ownRecord(catalog.config.routing.fallbacks),
      });
      span.setAttributes({
        'quorum.route.policy': policy,
        'quorum.route.chosen': plan.chosen ?? '',
        'quorum.route.eligible': plan.candidates.filter((c) => c.eligible).length,
      });
      const chosen = plan.candidates.find((c) => c.model === plan.chosen);
      if (chosen?.scores) span.setAttribute(ATTR_QUORUM_COST_USD, chosen.scores.cost_usd);
      return plan;
    } catch (err) {
      failSpan(span, err instanceof Error ? err.name : 'error');
      throw err;
    } finally {
      span.end();
    }
  });
}

function noEligible(plan: RoutePlan): GatewayError {
  const reasons = plan.candidates.map((c) => `${c.model}: ${c.reason ?? 'excluded'}`);
  if (plan.candidates.length && plan.candidates.every((c) => c.reason?.startsWith('circuit open'))) {
    return new GatewayError(
      'upstream_failed',
      `Every candidate is failing right now (${reasons.join('; ')}).`,
    );
  }
  return new GatewayError(
    'no_eligible_model',
    `No model can serve this request (${reasons.join('; ') || 'no models configured'}). POST /v1/route shows why.`,
    { param: 'model' },
  );
}

export interface Plan {
  chain: Deployment[];
  /** The router's decision when the client asked for `auto[:policy]`. */
  route?: RoutePlan;
}

/** The deployments to try for a request: the named model's chain, or the router's choice and fallbacks. */
export function planRequest(catalog: Catalog, caller: Caller, request: ChatRequest): Plan {
  const policy = autoPolicy(catalog, request);
  if (!policy) return { chain: buildChain(catalog, caller, request.model, request.quorum?.fallbacks) };
  const plan = decide(catalog, caller, request, policy);
  if (!plan.chosen) throw noEligible(plan);
  const chain = buildChain(catalog, caller, plan.chosen, request.quorum?.fallbacks ?? plan.fallbacks);
  return { chain, route: plan };
}

/** The `quorum.route` record of a response. */
export function routeRecord(plan: RoutePlan) {
  return {
    policy: plan.policy,
    chosen: plan.chosen,
    why: plan.why,
    candidates: reportedCandidates(plan.candidates),
  };
}

/** The router works in float dollars; what a client reads is whole nano-dollars, like every other cost. */
function reportedCandidates(candidates: RoutePlan['candidates']): RoutePlan['candidates'] {
  return candidates.map((c) =>
    c.scores ? { ...c, scores: { ...c.scores, cost_usd: reportedUsd(c.scores.cost_usd) } } : c,
  );
}

/** Each candidate with its learnt quality for this task (prior, observed, effective, observations). */
function withLearnedQuality(
  catalog: Catalog,
  candidates: RoutePlan['candidates'],
  weights: RoutePlan['task']['categories'],
) {
  if (!catalog.learning) return candidates;
  return candidates.map((c) => {
    const learned = learnedQuality(catalog.learning!, c.model, weights);
    return learned ? { ...c, learned_quality: learned } : c;
  });
}

/** `POST /v1/route`: the decision the gateway would make for a chat body, without calling anything. */
export function dryRun(catalog: Catalog, caller: Caller, request: ChatRequest) {
  const policy = autoPolicy(catalog, request);
  let plan: RoutePlan;
  let chosen: string | null;
  let fallbacks: string[];
  let why: string;
  if (policy) {
    plan = decide(catalog, caller, request, policy);
    chosen = plan.chosen;
    const chain = chosen
      ? buildChain(catalog, caller, chosen, request.quorum?.fallbacks ?? plan.fallbacks)
      : [];
    fallbacks = [...new Set(chain.map((d) => d.spec.id))].filter((id) => id !== chosen);
    why = plan.why;
  } else {
    // A named model is used as named; the router still explains how it fits the task.
    const chain = buildChain(catalog, caller, request.model, request.quorum?.fallbacks);
    const ids = [...new Set(chain.map((d) => d.spec.id))];
    plan = decide(
      catalog,
      caller,
      request,
      request.quorum?.route?.policy ?? catalog.config.routing.policy,
      ids,
    );
    chosen = ids[0] ?? null;
    fallbacks = ids.slice(1);
    // The request chose; the router's own reading of the same chain is still worth a line.
    why =
      chosen === null
        ? plan.why
        : plan.chosen === chosen
          ? `named by the request; the router would choose it too: ${plan.why}`
          : `named by the request; of its chain the router would take \`${plan.chosen}\`: ${plan.why}`;
  }
  const { categories, difficulty, required, promptTokens, maxOutputTokens } = plan.task;
  return {
    policy: plan.policy,
    chosen,
    why,
    task: {
      categories,
      difficulty,
      required,
      prompt_tokens: promptTokens,
      max_output_tokens: maxOutputTokens,
    },
    candidates: withLearnedQuality(catalog, reportedCandidates(plan.candidates), categories),
    fallbacks,
  };
}
