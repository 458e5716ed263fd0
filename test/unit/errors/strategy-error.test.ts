import { describe, expect, it } from 'vitest';
import { StrategyFailure } from '../../../consensus/index.ts';
import { strategyError, toGatewayError } from '../../../src/errors/index.ts';

const failure = (aborted = false) =>
  new StrategyFailure(
    'no reviewer returned a readable review',
    [
      { model: 'r1', role: 'reviewer', error: 'unreadable review' },
      { model: 'r2', role: 'reviewer', error: '503 overloaded' },
    ],
    { aborted },
  );

describe('a strategy the models could not answer', () => {
  it('is a 502 upstream_failed naming every attempt, even where only the last-resort mapper sees it', () => {
    for (const err of [strategyError(failure(), { what: 'The review' }), toGatewayError(failure())]) {
      expect(err.status).toBe(502);
      expect(err.toBody().error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
      expect(err.message).toContain('reviewer r1: unreadable review; reviewer r2: 503 overloaded');
    }
    expect(strategyError(failure(), { what: 'The review' }).message).toMatch(/^The review got no answer: /);
  });

  it('is a 504 upstream_timeout when the deadline stopped it', () => {
    expect(strategyError(failure(), { timedOut: true }).toBody().error.code).toBe('upstream_timeout');
    expect(toGatewayError(failure(true)).status).toBe(504);
  });

  it('leaves real bugs as the 500 they are', () => {
    expect(toGatewayError(new TypeError('x is undefined')).status).toBe(500);
  });
});
