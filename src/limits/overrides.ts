/**
 * The live budget overrides, held in memory so admission reads them without a round trip. Every
 * instance reloads them from the shared store every `refreshMs` (and at once on the instance that made
 * a change), so an override made on one instance is honoured by all within that interval, in Redis
 * mode too. An override ends by itself: `limitFor` ignores one past its expiry whatever the last
 * reload said.
 */
import type { OverrideBook } from './scopes.ts';
import type { BudgetPeriod } from './types.ts';

export interface LiveOverride {
  subject: string;
  /** The window raised; null: every window of the scope. */
  period: BudgetPeriod | null;
  limit_usd: number;
  expires_at: number;
}

export interface OverrideCacheOptions {
  /** The overrides in force now (the store's). */
  load: () => Promise<LiveOverride[]>;
  /** How often to reload (default 2 s). */
  refreshMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export class OverrideCache implements OverrideBook {
  private bySubject = new Map<string, LiveOverride[]>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly options: OverrideCacheOptions;
  private readonly now: () => number;

  constructor(options: OverrideCacheOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Loads now, then every refreshMs (the timer does not keep the process alive). */
  async start(): Promise<void> {
    await this.reload().catch((err) => this.options.onError?.(err));
    this.timer = setInterval(() => {
      this.reload().catch((err) => this.options.onError?.(err));
    }, this.options.refreshMs ?? 2_000);
    this.timer.unref();
  }

  async reload(): Promise<void> {
    const next = new Map<string, LiveOverride[]>();
    for (const o of await this.options.load()) {
      const list = next.get(o.subject) ?? [];
      list.push(o);
      next.set(o.subject, list);
    }
    this.bySubject = next;
  }

  /** The highest live raise of the subject's window of `period`. */
  limitFor(subject: string, period: BudgetPeriod): number | undefined {
    const list = this.bySubject.get(subject);
    if (!list) return undefined;
    const now = this.now();
    let best: number | undefined;
    for (const o of list) {
      if (o.expires_at <= now || (o.period !== null && o.period !== period)) continue;
      if (best === undefined || o.limit_usd > best) best = o.limit_usd;
    }
    return best;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
