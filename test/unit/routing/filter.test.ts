import { describe, expect, it } from 'vitest';
import {
  exclusionReason,
  type FilterLimits,
  OUTPUT_RESERVE,
  outputReserve,
  worstCaseCost,
} from '../../../routing/filter.ts';
import { CHEAP, MID, model, STRONG, task } from './fixtures.ts';

const OPEN: FilterLimits = { models: null, allowList: null, maxCostUsd: undefined };

describe('worstCaseCost', () => {
  it('charges max_tokens, else the model maximum, at the output price', () => {
    const spec = model('m', { price: { input: 2, output: 10 }, max_output_tokens: 1000 });
    expect(worstCaseCost(spec, task({ promptTokens: 500, maxOutputTokens: 100 }))).toBeCloseTo(
      (500 * 2 + 100 * 10) / 1e6,
      15,
    );
    expect(worstCaseCost(spec, task({ promptTokens: 500 }))).toBeCloseTo((500 * 2 + 1000 * 10) / 1e6, 15);
    expect(worstCaseCost(model('free', { price: { input: 0, output: 0 } }), task())).toBe(0);
  });
});

describe('exclusionReason', () => {
  it('admits a model that fits', () => {
    expect(exclusionReason(MID, task(), OPEN, undefined)).toBeUndefined();
  });

  it('names every missing capability', () => {
    expect(exclusionReason(CHEAP, task({ required: ['tools'] }), OPEN, undefined)).toBe(
      'lacks capability: tools',
    );
    expect(exclusionReason(CHEAP, task({ required: ['tools', 'vision', 'json'] }), OPEN, undefined)).toBe(
      'lacks capability: tools, vision',
    );
  });

  it('checks the window against prompt + max_tokens, else prompt + min(max output, 4096)', () => {
    expect(outputReserve(STRONG, task())).toBe(OUTPUT_RESERVE);
    expect(outputReserve(model('small-out', { max_output_tokens: 1000 }), task())).toBe(1000);
    expect(exclusionReason(CHEAP, task({ promptTokens: 4096 }), OPEN, undefined)).toBeUndefined();
    expect(exclusionReason(CHEAP, task({ promptTokens: 4097 }), OPEN, undefined)).toBe(
      'context window 8192 < needed 8193',
    );
    expect(exclusionReason(MID, task({ promptTokens: 30_000, maxOutputTokens: 3000 }), OPEN, undefined)).toBe(
      'context window 32768 < needed 33000',
    );
  });

  it('rejects a requested output above the model maximum', () => {
    expect(exclusionReason(CHEAP, task({ maxOutputTokens: 5000, promptTokens: 10 }), OPEN, undefined)).toBe(
      'max_output_tokens 4096 < requested 5000',
    );
  });

  it('matches allow-lists and quorum.route.models by id or alias', () => {
    const byAlias: FilterLimits = { ...OPEN, allowList: new Set(['middle']) };
    expect(exclusionReason(MID, task(), byAlias, undefined)).toBeUndefined();
    expect(exclusionReason(STRONG, task(), byAlias, undefined)).toBe('not in team allow-list');
    const models: FilterLimits = { ...OPEN, models: new Set(['strong']) };
    expect(exclusionReason(STRONG, task(), models, undefined)).toBeUndefined();
    expect(exclusionReason(MID, task(), models, undefined)).toBe('not in quorum.route.models');
    expect(exclusionReason(MID, task(), { ...OPEN, models: new Set() }, undefined)).toBe(
      'not in quorum.route.models',
    );
  });

  it('rejects a worst-case cost over max_cost_usd, and accepts one equal to it', () => {
    const t = task({ promptTokens: 1000, maxOutputTokens: 1000 });
    const cost = worstCaseCost(STRONG, t); // 0.05
    expect(exclusionReason(STRONG, t, { ...OPEN, maxCostUsd: cost }, undefined)).toBeUndefined();
    expect(exclusionReason(STRONG, t, { ...OPEN, maxCostUsd: 0.01 }, undefined)).toBe(
      'worst-case cost $0.05 > max_cost_usd $0.01',
    );
  });

  it('excludes an open circuit but not a half-open one', () => {
    const h = { errorRate: 0, inFlight: 0 };
    expect(exclusionReason(MID, task(), OPEN, { ...h, circuit: 'open' })).toBe('circuit open');
    expect(exclusionReason(MID, task(), OPEN, { ...h, circuit: 'half_open' })).toBeUndefined();
  });

  it('reports the first failing check: who may be used, then fit, then money, then health', () => {
    const limits: FilterLimits = { models: new Set(['mid']), allowList: null, maxCostUsd: 0 };
    const h = { errorRate: 1, inFlight: 0, circuit: 'open' as const };
    expect(exclusionReason(CHEAP, task({ required: ['tools'] }), limits, h)).toBe(
      'not in quorum.route.models',
    );
    expect(exclusionReason(MID, task({ required: ['vision'] }), limits, h)).toBe('lacks capability: vision');
    expect(exclusionReason(MID, task(), limits, h)).toMatch(/^worst-case cost/);
  });
});
