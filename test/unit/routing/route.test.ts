import { describe, expect, it } from 'vitest';
import { analyzeTask } from '../../../routing/analyze.ts';
import { worstCaseCost } from '../../../routing/filter.ts';
import { route } from '../../../routing/route.ts';
import type { DeploymentHealth, HealthView, RouteOptions } from '../../../routing/route-types.ts';
import { BAR_BASE, qualityBar } from '../../../routing/score.ts';
import type { Policy } from '../../../routing/types.ts';
import { CHEAP, MID, model, STRONG, TRIO, task, user } from './fixtures.ts';
import { PROMPTS } from './prompts.ts';

const healthy: HealthView = () => undefined;
const opts = (policy: Policy, more: Partial<RouteOptions> = {}): RouteOptions => ({ policy, ...more });
const greeting = analyzeTask(user('hi'));
const healthBy =
  (by: Record<string, DeploymentHealth>): HealthView =>
  (spec) =>
    by[spec.upstream];
const h = (over: Partial<DeploymentHealth>): DeploymentHealth => ({
  errorRate: 0,
  inFlight: 0,
  circuit: 'closed',
  ...over,
});

describe('route: policies on a cheap / mid / strong catalog', () => {
  it('cost and latency take the cheap model for a greeting, quality the strong one', () => {
    expect(route(TRIO, greeting, healthy, opts('cost')).chosen).toBe('cheap');
    expect(route(TRIO, greeting, healthy, opts('latency')).chosen).toBe('cheap');
    expect(route(TRIO, greeting, healthy, opts('quality')).chosen).toBe('strong');
  });

  it('balanced does not spend on quality a greeting cannot use', () => {
    expect(route(TRIO, greeting, healthy, opts('balanced')).chosen).toBe('cheap');
  });

  it('balanced takes the strong code model for a hard code prompt within max_cost_usd', () => {
    const prompt = PROMPTS.find((p) => p.name === 'express-refactor')!.prompt as string;
    const t = analyzeTask({ ...user(prompt), max_tokens: 4000 });
    expect(t.categories.code).toBeGreaterThan(0.5);
    expect(t.difficulty).toBeGreaterThan(0.7);
    const limit = worstCaseCost(STRONG, t) * 1.01;
    const plan = route(TRIO, t, healthy, opts('balanced', { maxCostUsd: limit }));
    expect(plan.chosen).toBe('strong');
    // The others are eligible but under the bar: negative totals.
    for (const c of plan.candidates.slice(1)) {
      expect(c.eligible).toBe(true);
      expect(c.scores!.total).toBeLessThan(0);
    }
    // Below the limit the strong model is excluded, and the best remaining one is taken.
    const tight = route(TRIO, t, healthy, opts('balanced', { maxCostUsd: limit / 2 }));
    expect(tight.chosen).toBe('mid');
    expect(tight.candidates.find((c) => c.model === 'strong')?.reason).toMatch(
      /^worst-case cost \$.+ > max_cost_usd/,
    );
  });

  it('never lands a request with tools on a model without tools', () => {
    const t = analyzeTask({ ...user('hi'), tools: [{ type: 'function', function: { name: 'f' } }] });
    const plan = route(TRIO, t, healthy, opts('cost'));
    expect(plan.chosen).toBe('mid');
    expect(plan.candidates.find((c) => c.model === 'cheap')).toEqual({
      model: 'cheap',
      eligible: false,
      reason: 'lacks capability: tools',
    });
  });

  it('sends an over-long prompt to a model whose window fits it', () => {
    const t = analyzeTask(user('lorem ipsum '.repeat(10_000))); // ~30K tokens
    const plan = route(TRIO, t, healthy, opts('cost'));
    expect(plan.chosen).toBe('strong');
    expect(plan.candidates.find((c) => c.model === 'cheap')?.reason).toMatch(
      /^context window 8192 < needed \d+$/,
    );
    expect(plan.candidates.find((c) => c.model === 'mid')?.reason).toMatch(
      /^context window 32768 < needed \d+$/,
    );
  });

  it('min_quality raises the bar', () => {
    expect(route(TRIO, greeting, healthy, opts('cost')).bar).toBe(BAR_BASE);
    const mid = route(TRIO, greeting, healthy, opts('cost', { minQuality: 0.7 }));
    expect(mid.bar).toBe(0.7);
    expect(mid.chosen).toBe('mid');
    expect(route(TRIO, greeting, healthy, opts('cost', { minQuality: 0.85 })).chosen).toBe('strong');
    expect(route(TRIO, greeting, healthy, opts('balanced', { minQuality: 0.85 })).chosen).toBe('strong');
    // A min_quality below the difficulty bar changes nothing.
    expect(qualityBar(0.5, 0.1)).toBe(qualityBar(0.5));
  });

  it('falls back to the highest quality when nothing clears the bar', () => {
    for (const policy of ['cost', 'balanced', 'latency'] as const) {
      expect(route([CHEAP, MID], greeting, healthy, opts(policy, { minQuality: 0.99 })).chosen).toBe('mid');
    }
  });

  it('latency takes the fastest model above the bar, from the health EWMA', () => {
    const health = healthBy({
      cheap: h({ latencyMs: 100 }),
      mid: h({ latencyMs: 300 }),
      strong: h({ latencyMs: 200 }),
    });
    const hard = task({ difficulty: 0.6 }); // bar 0.86 (a hard task): cheap and mid are under it
    expect(route(TRIO, hard, health, opts('latency')).chosen).toBe('strong');
    expect(route(TRIO, task(), health, opts('latency')).chosen).toBe('cheap');
    // Failures cost retries: a 50% error rate makes 150 ms slower than 200 ms.
    const flaky = healthBy({ mid: h({ latencyMs: 150, errorRate: 0.5 }), strong: h({ latencyMs: 200 }) });
    expect(route([MID, STRONG], task(), flaky, opts('latency')).chosen).toBe('strong');
  });

  it('prefers a free model that clears the bar, with finite scores', () => {
    const free = model('free', { price: { input: 0, output: 0 }, quality: CHEAP.quality });
    for (const policy of ['cost', 'balanced', 'latency'] as const) {
      const plan = route([...TRIO, free], greeting, healthy, opts(policy));
      expect(plan.chosen).toBe('free');
      for (const c of plan.candidates) expect(Number.isFinite(c.scores!.total)).toBe(true);
    }
  });
});

describe('route: restrictions and health', () => {
  it('restricts to the team allow-list, by id or alias', () => {
    const plan = route(TRIO, greeting, healthy, opts('quality', { allowList: new Set(['tiny', 'middle']) }));
    expect(plan.chosen).toBe('mid');
    expect(plan.candidates.find((c) => c.model === 'strong')?.reason).toBe('not in team allow-list');
    expect(route(TRIO, greeting, healthy, opts('quality', { allowList: null })).chosen).toBe('strong');
  });

  it('restricts to quorum.route.models, by id or alias', () => {
    const plan = route(TRIO, greeting, healthy, opts('cost', { models: ['big'] }));
    expect(plan.chosen).toBe('strong');
    expect(plan.candidates.filter((c) => !c.eligible).map((c) => c.reason)).toEqual([
      'not in quorum.route.models',
      'not in quorum.route.models',
    ]);
  });

  it('excludes open circuits but not half-open ones', () => {
    const open = route(TRIO, greeting, healthBy({ cheap: h({ circuit: 'open' }) }), opts('cost'));
    expect(open.chosen).toBe('mid');
    expect(open.candidates.find((c) => c.model === 'cheap')?.reason).toBe('circuit open');
    expect(route(TRIO, greeting, healthBy({ cheap: h({ circuit: 'half_open' }) }), opts('cost')).chosen).toBe(
      'cheap',
    );
  });

  it('routes over distinct ids: an id is out for its circuit only when every deployment is open', () => {
    const a = { ...MID, provider: 'a', upstream: 'mid-a' };
    const b = { ...MID, provider: 'b', upstream: 'mid-b' };
    const one = healthBy({ 'mid-a': h({ circuit: 'open' }), 'mid-b': h({ latencyMs: 321 }) });
    const plan = route([a, b, STRONG], greeting, one, opts('cost'));
    expect(plan.chosen).toBe('mid');
    expect(plan.candidates.map((c) => c.model)).toEqual(['mid', 'strong']);
    expect(plan.candidates[0]!.scores!.latency_ms).toBe(321);

    // The healthier deployment speaks for the id: closed before half-open.
    const half = healthBy({
      'mid-a': h({ circuit: 'half_open', latencyMs: 10 }),
      'mid-b': h({ latencyMs: 500 }),
    });
    expect(route([a, b], greeting, half, opts('cost')).candidates[0]!.scores!.latency_ms).toBe(500);

    const both = healthBy({ 'mid-a': h({ circuit: 'open' }), 'mid-b': h({ circuit: 'open' }) });
    const none = route([a, b, STRONG], greeting, both, opts('cost'));
    expect(none.chosen).toBe('strong');
    expect(none.candidates[1]).toEqual({ model: 'mid', eligible: false, reason: 'circuit open' });
  });
});

describe('route: plan shape', () => {
  it('lists the chosen, then eligible by descending total, then the excluded by id', () => {
    const catalog = [
      STRONG,
      model('zeta', { capabilities: [] }),
      CHEAP,
      model('alpha', { capabilities: [] }),
      MID,
    ];
    const t = task({ required: ['json'] });
    const plan = route(catalog, t, healthy, opts('balanced'));
    expect(plan.candidates.map((c) => c.model)).toEqual(['cheap', 'mid', 'strong', 'alpha', 'zeta']);
    expect(plan.chosen).toBe('cheap');
    const totals = plan.candidates.filter((c) => c.eligible).map((c) => c.scores!.total);
    expect([...totals].sort((x, y) => y - x)).toEqual(totals);
    for (const c of plan.candidates.slice(3))
      expect(c).toEqual({ model: c.model, eligible: false, reason: 'lacks capability: json' });
    expect(plan.fallbacks).toEqual(['mid', 'strong']);
    expect(plan.task).toBe(t);
    expect(plan.policy).toBe('balanced');
  });

  it('reports worst-case cost, expected quality and latency for each eligible candidate', () => {
    const t = task({
      categories: { general: 0.5, code: 0.5, math: 0, reasoning: 0, writing: 0 },
      promptTokens: 1000,
    });
    const c = route([MID], t, healthy, opts('quality')).candidates[0]!;
    expect(c.scores!.quality).toBeCloseTo(0.5 * 0.76 + 0.5 * 0.74, 12);
    expect(c.scores!.cost_usd).toBe(worstCaseCost(MID, t));
    expect(c.scores!.latency_ms).toBeGreaterThan(500);
    expect(c.scores!.total).toBe(c.scores!.quality);
  });

  it('puts the configured chain first (aliases resolved, eligible only, once), then the rest by score', () => {
    const d = model('d', { price: { input: 5, output: 20 }, quality: STRONG.quality });
    const catalog = [CHEAP, MID, STRONG, d];
    const fallbacks = { cheap: ['big', 'nope', 'cheap', 'strong', 'middle'] };
    const plan = route(
      catalog,
      greeting,
      healthy,
      opts('cost', { fallbacks, allowList: new Set(['cheap', 'strong', 'd']) }),
    );
    expect(plan.chosen).toBe('cheap');
    expect(plan.fallbacks).toEqual(['strong', 'd']);
    const open = route(catalog, greeting, healthy, opts('cost', { fallbacks }));
    expect(open.fallbacks).toEqual(['strong', 'mid', 'd']);
  });

  it('chooses nothing when nothing is eligible', () => {
    const plan = route(
      TRIO,
      task({ required: ['vision'], promptTokens: 500_000 }),
      healthy,
      opts('balanced'),
    );
    expect(plan.chosen).toBeNull();
    expect(plan.fallbacks).toEqual([]);
    expect(plan.candidates.map((c) => [c.model, c.reason])).toEqual([
      ['cheap', 'lacks capability: vision'],
      ['mid', 'lacks capability: vision'],
      ['strong', 'context window 400000 < needed 504096'],
    ]);
    expect(route([], greeting, healthy, opts('cost'))).toMatchObject({
      chosen: null,
      candidates: [],
      fallbacks: [],
    });
  });

  it('breaks ties on latency, then price, then id', () => {
    const twins = [model('b'), model('a')];
    expect(route(twins, greeting, healthy, opts('quality')).chosen).toBe('a');
    const fasterB = healthBy({ b: h({ latencyMs: 100 }), a: h({ latencyMs: 200 }) });
    expect(route(twins, greeting, fasterB, opts('quality')).chosen).toBe('b');
    const sameLatency = healthBy({ b: h({ latencyMs: 100 }), a: h({ latencyMs: 100 }) });
    const cheaperB = [model('b', { price: { input: 1, output: 3 } }), model('a')];
    expect(route(cheaperB, greeting, sameLatency, opts('quality')).chosen).toBe('b');
  });

  it('gives the same plan for the same inputs, whatever the catalog order', () => {
    const catalog = [MID, STRONG, CHEAP, model('x', { price: { input: 0, output: 0 } })];
    const a = route(catalog, greeting, healthy, opts('balanced'));
    expect(route(catalog, greeting, healthy, opts('balanced'))).toEqual(a);
    expect(route([...catalog].reverse(), greeting, healthy, opts('balanced'))).toEqual(a);
  });
});
