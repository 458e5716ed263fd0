import { Counter, Registry } from 'prom-client';

/**
 * Prometheus metrics for GET /metrics. One registry per process; labels are bounded (routes, models,
 * providers, teams, statuses — never keys or request ids).
 */
export const registry = new Registry();

/**
 * A counter bumped for every request. prom-client checks and hashes the label set on each `inc`
 * (about 1.6 KB of garbage a request for the four below); these sums wait per label values in a Map
 * instead and are handed to the prom-client counter whenever it is read (a scrape), so /metrics shows
 * the same numbers.
 */
export class RequestCounter<L extends string> {
  readonly #names: readonly L[];
  readonly #pending = new Map<string, { labels: Record<L, string>; sum: number }>();

  constructor(config: { name: string; help: string; labelNames: readonly L[] }) {
    const pending = this.#pending;
    this.#names = config.labelNames;
    new Counter<L>({
      ...config,
      registers: [registry],
      collect() {
        for (const entry of pending.values()) {
          if (entry.sum === 0) continue;
          this.inc(entry.labels, entry.sum);
          entry.sum = 0;
        }
      },
    });
  }

  /** Adds `by` (default 1) for the label `values`, given in `labelNames` order. */
  inc(values: readonly string[], by = 1): void {
    const key = keyOf(values);
    const entry = this.#pending.get(key);
    if (entry) entry.sum += by;
    else this.#pending.set(key, { labels: labelSet(this.#names, values), sum: by });
  }
}

/** The Map key of a label set: each value prefixed by its length, so no two sets share one. */
function keyOf(values: readonly string[]): string {
  let key = '';
  for (const value of values) key += `${value.length}:${value}`;
  return key;
}

/** `values`, given in `names` order, as prom-client's label object. */
function labelSet<L extends string>(names: readonly L[], values: readonly string[]): Record<L, string> {
  const labels = {} as Record<L, string>;
  names.forEach((name, i) => {
    labels[name] = values[i] as string;
  });
  return labels;
}

/** A value line as prom-client's registry formats it: `metricName{labels,sharedLabels} value`. */
interface ValueLine {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
}

/** What the registry reads from a metric. */
interface MetricValues {
  name: string;
  help: string;
  type: 'histogram';
  values: ValueLine[];
  aggregator: 'sum';
}

/** One label set's observations: per-bucket counts (not cumulative), sum and count. */
interface Series {
  labels: Record<string, string>;
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram observed for every request, for the same reason as RequestCounter: prom-client's
 * `observe` checks and hashes the label object and allocates a closure each time. This one keeps its
 * series in a Map keyed by the label values and gives the registry exactly the values a prom-client
 * Histogram gives (the same buckets, `le` labels, `_sum` and `_count`), so /metrics reads the same.
 */
export class RequestHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #names: readonly L[];
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registers?: Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.#names = config.labelNames;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    for (const r of config.registers ?? [registry]) r.registerMetric(this as never);
  }

  /** Observes `value` for the label `values`, given in `labelNames` order. */
  observe(values: readonly string[], value: number): void {
    if (!Number.isFinite(value)) return;
    const key = keyOf(values);
    let series = this.#series.get(key);
    if (!series) {
      series = { labels: labelSet(this.#names, values), counts: this.#bounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  /** What the registry formats: per series the cumulative buckets, `+Inf`, sum and count. */
  getForPromString(): MetricValues {
    const values: ValueLine[] = [];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        values.push({
          labels: { le },
          sharedLabels: s.labels,
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket` },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The same values with each series' labels merged in (prom-client's JSON form). */
  async get(): Promise<MetricValues> {
    const metric = this.getForPromString();
    return {
      ...metric,
      values: metric.values.map(({ sharedLabels, ...rest }) => ({
        ...rest,
        labels: { ...rest.labels, ...sharedLabels },
      })),
    };
  }

  reset(): void {
    this.#series.clear();
  }
}

export const requests = new RequestCounter({
  name: 'quorum_requests_total',
  help: 'HTTP requests answered, by route and status',
  labelNames: ['route', 'status'] as const,
});

export const requestSeconds = new RequestHistogram({
  name: 'quorum_request_duration_seconds',
  help: 'Time from request to response headers (streams: to the end of the stream)',
  labelNames: ['route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
});

export const upstreamCalls = new RequestCounter({
  name: 'quorum_upstream_calls_total',
  help: 'Upstream calls, by catalog model, provider and HTTP status (200 = answered)',
  labelNames: ['model', 'provider', 'status'] as const,
});

export const costUsd = new RequestCounter({
  name: 'quorum_cost_usd_total',
  help: 'Spend in USD, by team and model',
  labelNames: ['team', 'model'] as const,
});

export const tokens = new RequestCounter({
  name: 'quorum_tokens_total',
  help: 'Tokens, by team, model and kind (input, output)',
  labelNames: ['team', 'model', 'kind'] as const,
});

export const refusals = new Counter({
  name: 'quorum_refusals_total',
  help: 'Requests refused before any upstream call, by team and reason (budget_exceeded, rate_limit_exceeded)',
  labelNames: ['team', 'reason'] as const,
  registers: [registry],
});

export const softLimitCrossings = new Counter({
  name: 'quorum_budget_soft_limit_crossings_total',
  help: "Times a team's spend crossed its soft budget limit (once per team and period per instance)",
  labelNames: ['team'] as const,
  registers: [registry],
});

export const alerts = new Counter({
  name: 'quorum_alerts_total',
  help: 'Budget alerts recorded (once per scope, window, period and threshold across instances sharing a database), by team, scope (team, key, user, tag) and kind (threshold, soft_limit)',
  labelNames: ['team', 'scope', 'kind'] as const,
  registers: [registry],
});

export const alertDeliveries = new Counter({
  name: 'quorum_alert_deliveries_total',
  help: 'Tries to deliver an alert to a webhook, by webhook name and outcome (delivered, retrying, failed: the last try failed)',
  labelNames: ['webhook', 'outcome'] as const,
  registers: [registry],
});

export const fanOutDegraded = new Counter({
  name: 'quorum_fanout_degraded_total',
  help: 'Fan-outs that answered without a part they needed, by strategy and reason (judge_failed, reviewer_failed)',
  labelNames: ['strategy', 'reason'] as const,
  registers: [registry],
});

export const usageOverHold = new Counter({
  name: 'quorum_usage_over_hold_total',
  help: 'Upstream calls whose reported usage cost more than the request had reserved (charged only up to the hold), by team, model and provider',
  labelNames: ['team', 'model', 'provider'] as const,
  registers: [registry],
});

export const usageOverHoldUsd = new Counter({
  name: 'quorum_usage_over_hold_usd_total',
  help: 'USD that upstreams reported beyond the requests’ holds and that was not charged, by team',
  labelNames: ['team'] as const,
  registers: [registry],
});

export const escapedErrors = new Counter({
  name: 'quorum_escaped_errors_total',
  help: 'Errors that escaped every request handler and reached the last-resort handler (the process kept serving), by kind (uncaught_exception, unhandled_rejection); any is a bug to report',
  labelNames: ['kind'] as const,
  registers: [registry],
});
