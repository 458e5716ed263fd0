/**
 * Per-deployment health: EWMAs of latency and error rate, in-flight count, and a circuit breaker.
 * The router reads it through `view` (a HealthView); the gateway feeds it with begin/succeed/fail/release
 * around every upstream try. Which failures count is the caller's decision, made by
 * `UpstreamError.countsAgainstHealth`: only upstream-caused ones (5xx, 408, 429, timeouts, dropped
 * connections, unreadable answers). The provider's other 4xx, requests refused before the call, the
 * gateway's own errors and aborts are reported with `release`: one client's bad requests must never
 * open a circuit for everyone.
 */
import type { DeploymentHealth, HealthView } from '../../../routing/route-types.ts';
import type { ModelSpec } from '../../../routing/types.ts';

/** The key health is tracked under: one catalog entry on one provider. */
export function deploymentKey(spec: ModelSpec): string {
  return `${spec.provider}/${spec.id}`;
}

export interface HealthOptions {
  /** Clock in epoch ms; injected so tests can move time. */
  now?: () => number;
  /** EWMA weight of the newest sample, 0..1. */
  alpha?: number;
  /** How long an open circuit stays open before admitting a probe. */
  cooldownMs?: number;
  /** The sliding window the error-ratio rule looks at. */
  windowMs?: number;
}

const CONSECUTIVE_FAILURES_TO_OPEN = 3;
const MIN_CALLS_IN_WINDOW = 5;
const MAX_ERROR_RATIO = 0.5;
/** The window is kept as this many counting buckets: O(1) memory per deployment at any request rate. */
const BUCKETS = 60;

interface Bucket {
  index: number;
  calls: number;
  failures: number;
}

interface State {
  latencyMs: number | undefined;
  errorRate: number;
  inFlight: number;
  consecutiveFailures: number;
  buckets: Bucket[];
  calls: number;
  failures: number;
  /** When the circuit (last) opened; null = closed. */
  openedAt: number | null;
  /** A half-open probe is in flight. */
  probing: boolean;
  /** The router's view while the circuit is closed, rebuilt only after a change (the router reads every model per request). */
  snapshot: DeploymentHealth | undefined;
}

export class HealthTracker {
  private readonly now: () => number;
  private readonly alpha: number;
  private readonly cooldownMs: number;
  private readonly bucketMs: number;
  private readonly states = new Map<string, State>();
  /** Keys by spec object, so the hot path builds no strings. */
  private readonly keys = new WeakMap<ModelSpec, string>();

  constructor(options: HealthOptions = {}) {
    this.now = options.now ?? Date.now;
    this.alpha = options.alpha ?? 0.2;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.bucketMs = (options.windowMs ?? 60_000) / BUCKETS;
  }

  /** A snapshot for the router; undefined = never called ("no data, healthy"). */
  readonly view: HealthView = (spec) => {
    const s = this.states.get(this.key(spec));
    if (!s) return undefined;
    // Open circuits turn half-open with the clock, so only closed ones may reuse their snapshot.
    if (s.openedAt === null && s.snapshot) return s.snapshot;
    const health: DeploymentHealth = {
      errorRate: s.errorRate,
      circuit: this.circuit(s),
      inFlight: s.inFlight,
    };
    if (s.latencyMs !== undefined) health.latencyMs = s.latencyMs;
    if (s.openedAt === null) s.snapshot = health;
    return health;
  };

  /**
   * Call before an upstream try. False = do not call this deployment now (circuit open, or half-open with
   * its one probe already out); true = go ahead, and report the outcome with succeed/fail/release.
   */
  begin(spec: ModelSpec): boolean {
    const s = this.state(spec);
    const circuit = this.circuit(s);
    if (circuit === 'open') return false;
    if (circuit === 'half_open') {
      if (s.probing) return false;
      s.probing = true;
    }
    s.inFlight++;
    s.snapshot = undefined;
    return true;
  }

  /** The try got an answer after `latencyMs`. */
  succeed(spec: ModelSpec, latencyMs: number): void {
    const s = this.end(spec);
    s.latencyMs = s.latencyMs === undefined ? latencyMs : this.ewma(s.latencyMs, latencyMs);
    s.errorRate = this.ewma(s.errorRate, 0);
    s.consecutiveFailures = 0;
    s.snapshot = undefined;
    // While half-open the next outcome decides (normally the probe's): a success closes the circuit and
    // forgets the failures that opened it. Stragglers finishing while fully open change nothing.
    if (s.openedAt !== null) {
      if (this.circuit(s) === 'half_open') this.close(s);
      return;
    }
    this.record(s, false);
  }

  /** The try failed in a way that counts against the deployment. */
  fail(spec: ModelSpec): void {
    const s = this.end(spec);
    s.errorRate = this.ewma(s.errorRate, 1);
    s.snapshot = undefined;
    if (s.openedAt !== null) {
      // A failed probe buys another full cooldown; a straggler failing while open does not extend it.
      if (this.circuit(s) === 'half_open') s.openedAt = this.now();
      return;
    }
    s.consecutiveFailures++;
    this.record(s, true);
    const tooManyInWindow = s.calls >= MIN_CALLS_IN_WINDOW && s.failures / s.calls > MAX_ERROR_RATIO;
    if (s.consecutiveFailures >= CONSECUTIVE_FAILURES_TO_OPEN || tooManyInWindow) s.openedAt = this.now();
  }

  /** The try ended without a verdict (the client went away): frees the slot, counts nothing. */
  release(spec: ModelSpec): void {
    this.end(spec);
  }

  private key(spec: ModelSpec): string {
    let key = this.keys.get(spec);
    if (key === undefined) {
      key = deploymentKey(spec);
      this.keys.set(spec, key);
    }
    return key;
  }

  private state(spec: ModelSpec): State {
    const key = this.key(spec);
    let s = this.states.get(key);
    if (!s) {
      s = {
        latencyMs: undefined,
        errorRate: 0,
        inFlight: 0,
        consecutiveFailures: 0,
        buckets: [],
        calls: 0,
        failures: 0,
        openedAt: null,
        probing: false,
        snapshot: undefined,
      };
      this.states.set(key, s);
    }
    return s;
  }

  private end(spec: ModelSpec): State {
    const s = this.state(spec);
    if (s.inFlight > 0) s.inFlight--;
    s.probing = false;
    s.snapshot = undefined;
    return s;
  }

  /** Open turns half-open lazily, by the clock: no timers to clean up. */
  private circuit(s: State): DeploymentHealth['circuit'] {
    if (s.openedAt === null) return 'closed';
    return this.now() - s.openedAt >= this.cooldownMs ? 'half_open' : 'open';
  }

  private close(s: State): void {
    s.openedAt = null;
    s.snapshot = undefined;
    s.consecutiveFailures = 0;
    s.buckets = [];
    s.calls = 0;
    s.failures = 0;
  }

  private ewma(previous: number, sample: number): number {
    return previous + this.alpha * (sample - previous);
  }

  /** Adds one outcome to the sliding window, dropping buckets that have aged out of it. */
  private record(s: State, failed: boolean): void {
    const index = Math.floor(this.now() / this.bucketMs);
    while (s.buckets.length > 0 && s.buckets[0]!.index <= index - BUCKETS) {
      const old = s.buckets.shift()!;
      s.calls -= old.calls;
      s.failures -= old.failures;
    }
    let last = s.buckets.at(-1);
    if (!last || last.index !== index) {
      last = { index, calls: 0, failures: 0 };
      s.buckets.push(last);
    }
    last.calls++;
    s.calls++;
    if (failed) {
      last.failures++;
      s.failures++;
    }
  }
}
