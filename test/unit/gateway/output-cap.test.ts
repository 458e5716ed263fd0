/** The output cap's arithmetic: the allowance, the largest cap a remainder pays for, the request sent. */
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../../routing/types.ts';
import {
  largestCapWithin,
  OutputCapping,
  outputAllowance,
  outputCapSettings,
  withOutputCap,
} from '../../../src/gateway/budget/output-cap.ts';

const spec = (over: Partial<ModelSpec>): ModelSpec =>
  ({ id: 'm', max_output_tokens: 128_000, price: { input: 1, output: 10 }, ...over }) as ModelSpec;
const SETTINGS = { defaultMaxOutputTokens: 4096, minOutputTokens: 256 };

describe('outputCapSettings', () => {
  it('takes the team budget’s values over the top level’s, and defaults without either', () => {
    const config = {
      budget: { default_max_output_tokens: 2000, min_output_tokens: 100 },
      teams: [{ id: 'a', budget: { default_max_output_tokens: 1000 } }, { id: 'b' }],
    };
    expect(outputCapSettings(config, 'a')).toEqual({ defaultMaxOutputTokens: 1000, minOutputTokens: 100 });
    expect(outputCapSettings(config, 'b')).toEqual({ defaultMaxOutputTokens: 2000, minOutputTokens: 100 });
    expect(outputCapSettings({ teams: [] }, 'x')).toEqual(SETTINGS);
  });
});

describe('outputAllowance', () => {
  it('is the named model’s own allowance, else the team’s, never more than any model of the chain writes', () => {
    expect(outputAllowance(SETTINGS, [spec({})])).toBe(4096);
    expect(outputAllowance(SETTINGS, [spec({ default_max_output_tokens: 500 })])).toBe(500);
    expect(outputAllowance(SETTINGS, [spec({}), spec({ max_output_tokens: 1000 })])).toBe(1000);
  });

  it('is none for a chain that charges nothing for output', () => {
    expect(outputAllowance(SETTINGS, [spec({ price: { input: 0, output: 0 } })])).toBeNull();
  });
});

describe('largestCapWithin', () => {
  const cost = (cap: number) => cap * 1e-5;
  it('finds the largest cap whose cost fits, within its bounds', () => {
    expect(largestCapWithin(256, 4096, cost, 0.01)).toBe(1000);
    expect(largestCapWithin(256, 4096, cost, 1)).toBe(4096);
    expect(largestCapWithin(256, 4096, cost, 0.002)).toBeUndefined();
  });
});

describe('OutputCapping', () => {
  const costAt = (cap: number) => 0.0001 + cap * 1e-5;
  it('clamps below what was refused, never below the floor', () => {
    const capping = new OutputCapping(4096, true, SETTINGS, costAt);
    expect(capping.initial()).toEqual({ max_tokens: 4096, reason: 'default_allowance' });
    const clamp = capping.clampTo(0.01)!;
    expect(clamp.cap).toEqual({ max_tokens: 989, reason: 'budget_remaining' });
    expect(clamp.reserveUsd).toBeLessThanOrEqual(0.01);
    expect(capping.clampTo(0.002)).toBeUndefined();
    expect(capping.fits(0.002)).toBe(189);
  });

  it('does not lower a request that asked for less than the floor', () => {
    const capping = new OutputCapping(100, false, SETTINGS, costAt);
    expect(capping.initial()).toBeUndefined();
    expect(capping.clampTo(0.0009)).toBeUndefined();
  });
});

describe('withOutputCap', () => {
  it('lowers the limits the client set, or sets max_completion_tokens', () => {
    expect(withOutputCap({}, 500)).toEqual({ max_completion_tokens: 500 });
    expect(withOutputCap({ max_tokens: 9000 }, 500)).toEqual({ max_tokens: 500 });
    expect(withOutputCap({ max_tokens: 9000, max_completion_tokens: 100 }, 500)).toEqual({
      max_tokens: 500,
      max_completion_tokens: 100,
    });
  });
});
