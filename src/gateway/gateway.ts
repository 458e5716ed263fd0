import type { ModelSpec } from '../../routing/types.ts';
import type { GatewayConfig } from '../config/index.ts';
import { createLimitBackends } from '../limits/backends.ts';
import { ProviderQueues, type ProviderQueuesOptions } from '../limits/index.ts';
import { amountNanos } from '../limits/nanos.ts';
import type { BudgetPolicy } from '../limits/types.ts';
import { createAdapter } from '../providers/index.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { LedgerEntry } from '../store/index.ts';
import { metrics } from '../telemetry/index.ts';
import type { Account } from './accounting.ts';
import type { LimitBackends } from './admission.ts';
import { ResponseCache } from './cache.ts';
import type { ChatContext } from './chat.ts';
import type { Deployment } from './deployment.ts';
import { type HealthOptions, HealthTracker } from './health.ts';
import { ModelTable } from './model-table.ts';

/**
 * The key a ledger row names: a stored key's id, or `static:<name>` for a named key from the config file
 * (which has no id), so spend by key tells static keys apart instead of lumping them as "no key".
 */
function ledgerKey(caller: ChatContext['caller']): string | null {
  if (caller.keyId !== null) return caller.keyId;
  return !caller.operator && caller.keyName ? `static:${caller.keyName}` : null;
}

/** Where each upstream call is recorded (the store's ledger writer); appends must not block. */
export interface LedgerSink {
  append(row: LedgerEntry): void;
}

/** Tuning and services that are not configuration. */
export interface GatewayOptions {
  health?: HealthOptions;
  queues?: ProviderQueuesOptions;
  /** Budget and rate-limit backends; in memory when not given. */
  limits?: LimitBackends;
  ledger?: LedgerSink;
  /** Errors that must not fail a request (a settle or ledger write that failed). */
  onError?: (err: Error) => void;
  /** Operator notices, such as a team crossing its soft budget limit. */
  onWarn?: (message: string, fields: Record<string, unknown>) => void;
}

/** Everything built once at start-up from the configuration. */
export class Gateway {
  readonly config: GatewayConfig;
  readonly table: ModelTable;
  /** Latency/error EWMAs and circuit breakers per deployment; the router reads it, calls update it. */
  readonly health: HealthTracker;
  /** Outbound queues for providers with `limits`. */
  readonly queues: ProviderQueues;
  readonly cache: ResponseCache;
  readonly limits: LimitBackends;
  readonly ledger: LedgerSink | undefined;
  readonly onError: ((err: Error) => void) | undefined;
  private readonly onWarn: GatewayOptions['onWarn'];
  /** Team/period pairs already reported past their soft limit (one notice each per instance). */
  private readonly softNoticed = new Set<string>();
  private readonly adapters = new Map<string, ProviderAdapter>();
  private readonly deployments = new Map<ModelSpec, Deployment>();

  /** Builds the gateway, loading only the adapters of the configured provider types. */
  static async create(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const adapters = new Map<string, ProviderAdapter>();
    for (const provider of config.providers) adapters.set(provider.id, await createAdapter(provider));
    return new Gateway(config, adapters, options);
  }

  constructor(config: GatewayConfig, adapters: Map<string, ProviderAdapter>, options: GatewayOptions = {}) {
    this.config = config;
    this.table = new ModelTable(config.models);
    this.health = new HealthTracker(options.health);
    this.queues = new ProviderQueues(config.providers, options.queues);
    this.limits = options.limits ?? createLimitBackends({});
    this.ledger = options.ledger;
    this.onError = options.onError;
    this.onWarn = options.onWarn;
    this.cache = new ResponseCache(config.cache);
    for (const [id, adapter] of adapters) this.adapters.set(id, adapter);
    for (const spec of config.models) {
      const provider = config.providers.find((p) => p.id === spec.provider)!;
      this.deployments.set(spec, { spec, provider, adapter: this.adapters.get(provider.id)! });
    }
  }

  /** Stops the provider queues (queued calls are refused) and the limit backends. */
  async close(): Promise<void> {
    await this.queues.stop();
    await this.limits.close();
  }

  /**
   * After a settle: when the team has a soft limit and its spend has crossed it this period, log and
   * count it once. Costs a status read only for teams that set a soft limit.
   */
  async noticeSoftLimit(policy: BudgetPolicy): Promise<void> {
    if (policy.softLimitUsd === undefined) return;
    const status = await this.limits.budget.status(policy);
    const key = `${policy.team}:${status.periodKey}`;
    if (!status.softLimitReached || this.softNoticed.has(key)) return;
    this.softNoticed.add(key);
    metrics.softLimitCrossings.inc({ team: policy.team });
    this.onWarn?.(`team ${policy.team} crossed its soft budget limit`, {
      team: policy.team,
      period: status.periodKey,
      spent_usd: status.spentUsd,
      soft_limit_usd: policy.softLimitUsd,
      limit_usd: status.limitUsd,
    });
  }

  /** An operator notice from the request path (usage reported past a hold), through `onWarn`. */
  warn(message: string, fields: Record<string, unknown>): void {
    this.onWarn?.(message, fields);
  }

  /** The per-call hook: metrics, and one ledger row per upstream call tagged with the request. */
  recordCall(ctx: ChatContext, tags?: Record<string, string>): Account {
    const ledger = this.ledger;
    const tagged = tags && Object.keys(tags).length ? tags : null;
    const team = ctx.caller.team;
    return (call) => {
      metrics.upstreamCalls.inc({ model: call.model, provider: call.provider, status: String(call.status) });
      if (call.costUsd > 0) metrics.costUsd.inc({ team, model: call.model }, call.costUsd);
      if (call.usage.prompt_tokens)
        metrics.tokens.inc({ team, model: call.model, kind: 'input' }, call.usage.prompt_tokens);
      if (call.usage.completion_tokens) {
        metrics.tokens.inc({ team, model: call.model, kind: 'output' }, call.usage.completion_tokens);
      }
      ledger?.append({
        request_id: ctx.requestId,
        team_id: ctx.caller.team,
        key_id: ledgerKey(ctx.caller),
        model: call.model,
        provider: call.provider,
        input_tokens: call.usage.prompt_tokens,
        cached_tokens: call.usage.cached_tokens ?? 0,
        output_tokens: call.usage.completion_tokens,
        cost_nanos: amountNanos(call.costUsd),
        latency_ms: call.latencyMs,
        status: call.status,
        tags: tagged,
        created_at: Date.now(),
      });
    };
  }

  deployment(spec: ModelSpec): Deployment {
    return this.deployments.get(spec)!;
  }
}
