/** Which signal each fan-out candidate gives, read from its `quorum` record. */
import { describe, expect, it } from 'vitest';
import { fanOutSignals } from '../../../src/learning/signals.ts';

const candidate = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  content: 'x',
  usage: { prompt_tokens: 1, completion_tokens: 1 },
  cost_usd: 0,
  latency_ms: 1,
  ...extra,
});

describe('fanOutSignals', () => {
  it('best_of_n: each scored candidate gives its judge score / 10', () => {
    const record = {
      strategy: 'best_of_n',
      candidates: [
        candidate('a', { score: 8 }),
        candidate('b', { score: 3.5 }),
        candidate('c', { error: 'boom' }),
      ],
    };
    expect(fanOutSignals(record)).toEqual([
      { index: 0, model: 'a', signal: 'judge_score', value: 0.8 },
      { index: 1, model: 'b', signal: 'judge_score', value: 0.35 },
    ]);
  });

  it('consensus: 1 for the chosen group, 0 for the others; nothing when nobody agreed', () => {
    const record = {
      strategy: 'consensus',
      candidates: [candidate('a'), candidate('b'), candidate('c'), candidate('d', { error: 'timeout' })],
      groups: [
        { answer: '391', members: [0, 2] },
        { answer: '392', members: [1] },
      ],
      selected: { index: 0, model: 'a' },
    };
    expect(fanOutSignals(record).map((s) => [s.model, s.signal, s.value])).toEqual([
      ['a', 'consensus_agreement', 1],
      ['b', 'consensus_agreement', 0],
      ['c', 'consensus_agreement', 1],
    ]);
    const split = { ...record, groups: [{ members: [0] }, { members: [1] }, { members: [2] }] };
    expect(fanOutSignals(split)).toEqual([]);
  });

  it('review: the drafting model gets the first round mean score / 10', () => {
    const record = {
      strategy: 'review',
      candidates: [candidate('author')],
      review: {
        reviews: [
          { reviewer: 'r1', round: 1, score: 6 },
          { reviewer: 'r2', round: 1, score: 8 },
          { reviewer: 'r3', round: 1, score: 0, error: 'unreadable' },
          { reviewer: 'r1', round: 2, score: 10 },
        ],
      },
    };
    expect(fanOutSignals(record)).toEqual([
      { index: 0, model: 'author', signal: 'review_verdict', value: 0.7 },
    ]);
  });

  it("ensemble: the aggregator's synthesis and unscored proposers give nothing", () => {
    const record = {
      strategy: 'ensemble',
      candidates: [candidate('a'), candidate('b'), candidate('agg', { role: 'aggregator' })],
      groups: [{ members: [0, 1] }],
      selected: { index: 2, model: 'agg' },
    };
    expect(fanOutSignals(record)).toEqual([]);
  });

  it('tolerates a record of another shape (a strategy it does not know)', () => {
    expect(fanOutSignals({ strategy: 'fusion', candidates: 'nope' })).toEqual([]);
    expect(fanOutSignals({ strategy: 'fusion', candidates: [null, candidate('a', { score: 12 })] })).toEqual([
      { index: 1, model: 'a', signal: 'judge_score', value: 1 },
    ]);
  });
});
