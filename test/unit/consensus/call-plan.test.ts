import { describe, expect, it } from 'vitest';
import { plannedCalls, plannedReviewCalls } from '../../../consensus/call-plan.ts';
import { ANALYSIS_MAX_TOKENS } from '../../../consensus/fusion-prompts.ts';
import { JUDGE_MAX_TOKENS } from '../../../consensus/judge.ts';

describe('plannedCalls (worst case, for budget reservation)', () => {
  const models = ['a', 'b', 'c'];
  it('consensus: candidates plus one possible USC call', () => {
    expect(plannedCalls('consensus', { models, judge: 'j' }).map((c) => c.role)).toEqual([
      'candidate',
      'candidate',
      'candidate',
      'judge',
    ]);
    expect(plannedCalls('consensus', { models })).toHaveLength(3);
  });
  it('best_of_n: two judge passes by default, one with bothOrders false', () => {
    const calls = plannedCalls('best_of_n', { models, judge: 'j' });
    expect(calls.filter((c) => c.role === 'judge')).toEqual([
      { model: 'j', role: 'judge', maxTokens: JUDGE_MAX_TOKENS },
      { model: 'j', role: 'judge', maxTokens: JUDGE_MAX_TOKENS },
    ]);
    expect(plannedCalls('best_of_n', { models, judge: 'j', bothOrders: false })).toHaveLength(4);
  });
  it('ensemble: candidates per layer plus the aggregator', () => {
    expect(plannedCalls('ensemble', { models, judge: 'j', layers: 2 })).toHaveLength(7);
  });
  it('fusion: candidates, the analyst (capped) and the synthesizer, which reads the analysis too', () => {
    const calls = plannedCalls('fusion', { models, judge: 'j', synthesizer: 's' });
    expect(calls.map((c) => [c.model, c.role, c.maxTokens])).toEqual([
      ['a', 'candidate', undefined],
      ['b', 'candidate', undefined],
      ['c', 'candidate', undefined],
      ['j', 'judge', ANALYSIS_MAX_TOKENS],
      ['s', 'aggregator', undefined],
    ]);
    expect(calls[4]!.promptTokens! - calls[3]!.promptTokens!).toBeGreaterThan(ANALYSIS_MAX_TOKENS);
    expect(plannedCalls('fusion', { models, judge: 'j' }).at(-1)!.model).toBe('j');
  });
  it('review: reviewers every round, the author between rounds', () => {
    expect(plannedReviewCalls({ artifact: '', instructions: '', reviewers: ['r1', 'r2'] })).toHaveLength(2);
    const calls = plannedReviewCalls({
      artifact: '',
      instructions: '',
      reviewers: ['r1', 'r2'],
      author: 'w',
      rounds: 3,
    });
    expect(calls.map((c) => c.model).join(' ')).toBe('r1 r2 w r1 r2 w r1 r2');
  });
});
