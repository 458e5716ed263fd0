/**
 * `why`: the one line a route plan gives for its choice, for every way a choice can be won.
 */
import { describe, expect, it } from 'vitest';
import { loadCalibrationSet } from '../../../bench/calibration/dataset.ts';
import { CALIBRATION_MODELS } from '../../../bench/calibration/models.ts';
import { analyzeTask } from '../../../routing/analyze.ts';
import { route } from '../../../routing/route.ts';
import type { RouteOptions } from '../../../routing/route-types.ts';
import type { Policy } from '../../../routing/types.ts';
import { CHEAP, MID, model, STRONG, TRIO, task, user } from './fixtures.ts';

const healthy = () => undefined;
const opts = (policy: Policy, more: Partial<RouteOptions> = {}): RouteOptions => ({ policy, ...more });
const greeting = analyzeTask(user('hi'));
const hard = task({ difficulty: 0.9 }); // bar .86: only the strong model clears it

describe('route: why', () => {
  it('cost: both clear the bar, the chosen is cheaper by a stated factor', () => {
    expect(route(TRIO, greeting, healthy, opts('cost')).why).toBe(
      'both clear the bar 0.45; `cheap` is 10× cheaper than `mid`',
    );
  });

  it('latency: both clear the bar, the chosen is faster', () => {
    const health = (spec: { upstream: string }) =>
      ({ cheap: 300, mid: 1500, strong: 900 })[spec.upstream] === undefined
        ? undefined
        : {
            latencyMs: { cheap: 300, mid: 1500, strong: 900 }[spec.upstream]!,
            errorRate: 0,
            circuit: 'closed' as const,
            inFlight: 0,
          };
    expect(route(TRIO, greeting, health, opts('latency')).why).toBe(
      'both clear the bar 0.45; `cheap` is faster (300 ms vs 900 ms for `strong`)',
    );
  });

  it('the only model above the bar: the next falls short', () => {
    expect(route(TRIO, hard, healthy, opts('balanced')).why).toBe(
      '`strong` clears the bar 0.86 (quality 0.90); the next, `mid`, falls short (0.76)',
    );
  });

  it('balanced: a pricier model is named worth its price, a cheaper one as good enough', () => {
    // Two models clear 0.86: the dearer one is 0.04 better at 1.25x the price.
    const near = model('near', {
      price: { input: 8, output: 32 },
      quality: { ...STRONG.quality, general: 0.86 },
    });
    expect(route([near, STRONG], hard, healthy, opts('balanced')).why).toBe(
      'both clear the bar 0.86; `strong` is 0.04 better than `near` (0.90 vs 0.86), worth 1.3× the price',
    );
    const medium = task({ difficulty: 0.4 }); // bar 0.70
    expect(route([MID, STRONG], medium, healthy, opts('balanced')).why).toBe(
      'both clear the bar 0.70; `mid` is 10× cheaper and `strong` is only 0.14 better (0.90 vs 0.76); above 0.80 quality buys nothing on this task',
    );
  });

  it('quality: the highest expected quality', () => {
    expect(route(TRIO, greeting, healthy, opts('quality')).why).toBe(
      '`strong` has the highest expected quality (0.90 vs 0.76 for `mid`)',
    );
  });

  it('nothing clears the bar: the closest model', () => {
    expect(route([CHEAP, MID], greeting, healthy, opts('cost', { minQuality: 0.99 })).why).toBe(
      'no model clears the bar 0.99; `mid` comes closest (0.76 vs 0.62 for `cheap`)',
    );
  });

  it('one eligible model, none, and a tie', () => {
    const only = route(TRIO, greeting, healthy, opts('cost', { allowList: new Set(['mid']) }));
    expect(only.why).toBe('`mid` is the only model that can serve this request (2 excluded)');
    expect(route([MID], greeting, healthy, opts('cost')).why).toBe('`mid` is the only model');
    const none = route(TRIO, task({ required: ['vision'], promptTokens: 500_000 }), healthy, opts('cost'));
    expect(none.why).toBe('no model can serve this request (3 excluded; see candidates)');
    expect(route([model('b'), model('a')], greeting, healthy, opts('quality')).why).toBe(
      '`a` ties `b` on quality score and is first by id',
    );
  });

  it('names the chosen model and the next one on every calibration prompt, in one line', () => {
    for (const p of loadCalibrationSet()) {
      const t = analyzeTask(p.request);
      for (const policy of ['cost', 'balanced', 'quality', 'latency'] as const) {
        const plan = route(CALIBRATION_MODELS, t, healthy, { policy });
        expect(plan.why).not.toMatch(/\n/);
        expect(plan.why).toContain(`\`${plan.chosen}\``);
        expect(plan.why).toContain(`\`${plan.candidates[1]!.model}\``);
      }
    }
  });
});
