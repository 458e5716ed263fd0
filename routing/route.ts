import { exclusionReason, type FilterLimits, worstCaseCost } from './filter.ts';
import type {
  CandidateScores,
  DeploymentHealth,
  HealthView,
  RouteCandidate,
  RouteOptions,
  RoutePlan,
  TaskProfile,
} from './route-types.ts';
import {
  costPenalty,
  expectedCost,
  expectedLatencyMs,
  expectedQuality,
  policyBar,
  policyTotal,
} from './score.ts';
import type { ModelSpec } from './types.ts';
import { explainChoice, type Ranked } from './why.ts';

/** One distinct catalog id: its best eligible deployment, or why every deployment was excluded. */
interface Entry {
  id: string;
  best: ModelSpec | undefined;
  health: DeploymentHealth | undefined;
  /** Ranking keys of `best`. */
  scores: CandidateScores | undefined;
  cost: number;
  /** Distinct reasons of the excluded deployments, in catalog order. */
  reasons: string[];
}

const CIRCUIT_RANK = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The deployment that speaks for an id: closed circuit before half-open, then the lower error rate,
 * then the lower expected latency, then the cheaper, then catalog order (the earlier one stays).
 */
function healthier(
  a: DeploymentHealth | undefined,
  aLatency: number,
  aCost: number,
  b: DeploymentHealth | undefined,
  bLatency: number,
  bCost: number,
): boolean {
  const ac = CIRCUIT_RANK[a?.circuit ?? 'closed'];
  const bc = CIRCUIT_RANK[b?.circuit ?? 'closed'];
  if (ac !== bc) return ac < bc;
  const ae = a?.errorRate ?? 0;
  const be = b?.errorRate ?? 0;
  if (ae !== be) return ae < be;
  if (aLatency !== bLatency) return aLatency < bLatency;
  return aCost < bCost;
}

/** Ranking: total (descending), then expected latency, then expected cost, then id. */
function compare(a: Entry, b: Entry): number {
  const sa = a.scores!;
  const sb = b.scores!;
  if (sa.total !== sb.total) return sb.total - sa.total;
  if (sa.latency_ms !== sb.latency_ms) return sa.latency_ms - sb.latency_ms;
  if (a.cost !== b.cost) return a.cost - b.cost;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const byId = (a: Entry, b: Entry) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Route one task over the catalog. Pure: the same models, task, health answers and options always give
 * the same plan. Deployments sharing an id are one candidate; the router picks the id and the gateway
 * balances across that id's deployments.
 */
export function route(
  models: readonly ModelSpec[],
  task: TaskProfile,
  health: HealthView,
  options: RouteOptions,
): RoutePlan {
  const policy = options.policy;
  const bar = policyBar(policy, task.difficulty, options.minQuality);
  const limits: FilterLimits = {
    models: options.models ? new Set(options.models) : null,
    allowList: options.allowList ?? null,
    maxCostUsd: options.maxCostUsd,
  };

  const entries = new Map<string, Entry>();
  for (const spec of models) {
    let entry = entries.get(spec.id);
    if (!entry) {
      entry = { id: spec.id, best: undefined, health: undefined, scores: undefined, cost: 0, reasons: [] };
      entries.set(spec.id, entry);
    }
    const h = health(spec);
    const reason = exclusionReason(spec, task, limits, h);
    if (reason !== undefined) {
      if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
      continue;
    }
    const latency = expectedLatencyMs(spec, h);
    const cost = expectedCost(spec, task);
    if (entry.best && !healthier(h, latency, cost, entry.health, entry.scores!.latency_ms, entry.cost))
      continue;
    const quality = expectedQuality(spec, task);
    entry.best = spec;
    entry.health = h;
    entry.cost = cost;
    entry.scores = {
      quality,
      cost_usd: worstCaseCost(spec, task),
      latency_ms: latency,
      total: policyTotal(policy, quality, costPenalty(spec, task, cost), latency, bar),
    };
  }

  const eligible: Entry[] = [];
  const excluded: Entry[] = [];
  for (const entry of entries.values()) (entry.best ? eligible : excluded).push(entry);
  eligible.sort(compare);
  excluded.sort(byId);

  const candidates: RouteCandidate[] = [];
  for (const e of eligible) candidates.push({ model: e.id, eligible: true, scores: e.scores! });
  for (const e of excluded) candidates.push({ model: e.id, eligible: false, reason: e.reasons.join('; ') });

  const chosen = eligible[0]?.id ?? null;
  return {
    policy,
    chosen,
    why: explainChoice(policy, bar, ranked(eligible[0]), ranked(eligible[1]), excluded.length),
    task,
    bar,
    candidates,
    fallbacks: chosen === null ? [] : fallbackChain(eligible, entries, models, options.fallbacks),
  };
}

function ranked(e: Entry | undefined): Ranked | undefined {
  if (!e) return undefined;
  const s = e.scores!;
  return { id: e.id, quality: s.quality, total: s.total, latencyMs: s.latency_ms, cost: e.cost };
}

/** The id a configured name means: an id as is, else the id of the first model with that alias. */
function resolve(name: string, models: readonly ModelSpec[]): string | undefined {
  let byAlias: string | undefined;
  for (const spec of models) {
    if (spec.id === name) return name;
    if (byAlias === undefined && spec.aliases.includes(name)) byAlias = spec.id;
  }
  return byAlias;
}

/**
 * After the chosen (ranked[0]): its configured chain (aliases resolved, eligible ones only, each
 * once), then every other eligible id in ranking order.
 */
function fallbackChain(
  ranked: readonly Entry[],
  entries: ReadonlyMap<string, Entry>,
  models: readonly ModelSpec[],
  configured: RouteOptions['fallbacks'],
): string[] {
  const chosen = ranked[0]!.id;
  const chain = configured?.[chosen];
  const out: string[] = [];
  if (!chain?.length) {
    for (let i = 1; i < ranked.length; i++) out.push(ranked[i]!.id);
    return out;
  }
  const seen = new Set<string>([chosen]);
  for (const name of chain) {
    const id = entries.get(name)?.best ? name : resolve(name, models);
    if (id !== undefined && entries.get(id)?.best && !seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  }
  for (const e of ranked) {
    if (!seen.has(e.id)) out.push(e.id);
  }
  return out;
}
