import { Counter, Registry } from 'prom-client';

/**
 * Prometheus metrics for GET /metrics. One registry per process; labels are bounded (routes, models,
 * providers, teams, statuses — never keys or request ids).
 */
export const registry = new Registry();

/**
 * One entry per label set, found by walking one Map per label value (no key string is built, hashed and
 * dropped on every call). `values` come in `labelNames` order, so two label sets never share an entry.
 */
class LabelTree<T> {
  readonly #root = new Map<string, unknown>();
  readonly #names: readonly string[];
  readonly #create: (labels: Record<string, string>) => T;
  /** Every entry, in creation order. */
  readonly entries: T[] = [];

  constructor(names: readonly string[], create: (labels: Record<string, string>) => T) {
    this.#names = names;
    this.#create = create;
  }

  get(values: readonly string[]): T {
    // One value per label: a shorter or longer list would file its entry among another level's Maps.
    if (values.length !== this.#names.length) {
      throw new Error(
        `expected ${this.#names.length} label values (${this.#names.join(', ')}), got ${values.length}`,
      );
    }
    let node = this.#root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const value = values[i] as string;
      let next = node.get(value) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        node.set(value, next);
      }
      node = next;
    }
    const leaf = values[last] as string;
    let entry = node.get(leaf) as T | undefined;
    if (entry === undefined) {
      entry = this.#create(labelSet(this.#names, values));
      node.set(leaf, entry);
      this.entries.push(entry);
    }
    return entry;
  }

  clear(): void {
    this.#root.clear();
    this.entries.length = 0;
  }
}

/**
 * A counter bumped for every request. prom-client checks and hashes the label set on each `inc`
 * (about 1.6 KB of garbage a request for the four below); these sums wait per label set instead and
 * are handed to the prom-client counter whenever it is read (a scrape), so /metrics shows the same
 * numbers.
 */
export class RequestCounter<L extends string> {
  readonly #sums: LabelTree<{ labels: Record<string, string>; sum: number }>;

  constructor(config: { name: string; help: string; labelNames: readonly L[] }) {
    const sums = new LabelTree(config.labelNames, (labels) => ({ labels, sum: 0 }));
    this.#sums = sums;
    new Counter<L>({
      ...config,
      registers: [registry],
      collect() {
        for (const entry of sums.entries) {
          if (entry.sum === 0) continue;
          this.inc(entry.labels as Record<L, string>, entry.sum);
          entry.sum = 0;
        }
      },
    });
  }

  /** Adds `by` (default 1) for the label `values`, given in `labelNames` order. */
  inc(values: readonly string[], by = 1): void {
    this.#sums.get(values).sum += by;
  }
}

/** `values`, given in `names` order, as prom-client's label object. */
function labelSet(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
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
 * series per label set and gives the registry exactly the values a prom-client
 * Histogram gives (the same buckets, `le` labels, `_sum` and `_count`), so /metrics reads the same.
 */
export class RequestHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #bounds: readonly number[];
  readonly #series: LabelTree<Series>;

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registers?: Registry[];
  }) {
    this.name = config.name;
    this.help = config.help;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    const buckets = this.#bounds.length;
    this.#series = new LabelTree(config.labelNames, (labels) => ({
      labels,
      counts: new Array<number>(buckets).fill(0),
      sum: 0,
      count: 0,
    }));
    for (const r of config.registers ?? [registry]) r.registerMetric(this as never);
  }

  /** Observes `value` for the label `values`, given in `labelNames` order. */
  observe(values: readonly string[], value: number): void {
    if (!Number.isFinite(value)) return;
    const series = this.#series.get(values);
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
    for (const s of this.#series.entries) {
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
