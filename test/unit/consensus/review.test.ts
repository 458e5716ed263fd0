import { describe, expect, it } from 'vitest';
import { consolidate, review } from '../../../consensus/review.ts';
import { StrategyFailure } from '../../../consensus/strategy-failure.ts';
import type { CompletionRequest, Review } from '../../../consensus/types.ts';
import { fake, never, promptOf } from './fakes.ts';

/** The artifact a reviewer or author was shown. */
function artifactOf(request: CompletionRequest): string {
  const m = /<<<BEGIN (\S+) ARTIFACT>>>\n([\s\S]*?)\n<<<END \1 ARTIFACT>>>/.exec(promptOf(request));
  return m![2]!;
}

type Verdict = { verdict: string; score: number; issues: string[] };

/** Reviewers answer from a table keyed by draft; the author turns draft vN into vN+1. */
function panel(table: Record<string, Record<string, Verdict | string>>) {
  return fake((model, request) => {
    const draft = artifactOf(request);
    if (model === 'author') return `v${Number(draft.slice(1)) + 1}`;
    const v = table[draft]?.[model];
    if (v === undefined) throw new Error(`no script for ${model} on ${draft}`);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

const base = { artifact: 'v0', instructions: 'Write a haiku about rain.', reviewers: ['r1', 'r2', 'r3'] };
const rv = (verdict: string, score: number, ...issues: string[]): Verdict => ({ verdict, score, issues });

describe('review', () => {
  it('without an author: one round, stopped_by no_author', async () => {
    const complete = panel({
      v0: { r1: rv('revise', 6, 'too long'), r2: rv('revise', 5, 'too long'), r3: rv('accept', 8) },
    });
    const r = await review(base, complete, never);
    expect(r).toMatchObject({
      verdict: 'revise',
      score: 19 / 3,
      artifact: 'v0',
      best_round: 0,
      rounds: 1,
      stopped_by: 'no_author',
    });
    expect(r.reviews).toHaveLength(3);
    expect(r.reviews[0]).toEqual({
      reviewer: 'r1',
      round: 1,
      verdict: 'revise',
      score: 6,
      issues: ['too long'],
    });
    expect(r.history![0]!.issues).toEqual(['too long']);
  });

  it('stops when the majority accepts', async () => {
    const complete = panel({
      v0: { r1: rv('revise', 5, 'a'), r2: rv('revise', 5, 'b'), r3: rv('revise', 5, 'c') },
      v1: { r1: rv('accept', 7), r2: rv('accept', 7), r3: rv('revise', 6, 'd') },
    });
    const r = await review({ ...base, author: 'author' }, complete, never);
    expect(r).toMatchObject({
      stopped_by: 'accepted',
      verdict: 'accept',
      rounds: 2,
      artifact: 'v1',
      best_round: 1,
    });
    // The author saw the consolidated issues.
    const authorCall = complete.calls.find((c) => c.model === 'author')!;
    expect(promptOf(authorCall.request)).toMatch(/1\. a\n2\. b\n3\. c/);
  });

  it('stops when the mean score passes the threshold', async () => {
    const complete = panel({
      v0: { r1: rv('revise', 6, 'a'), r2: rv('revise', 6, 'b'), r3: rv('revise', 6, 'c') },
      v1: { r1: rv('revise', 9, 'x'), r2: rv('revise', 9, 'y'), r3: rv('reject', 9, 'z') },
    });
    const r = await review({ ...base, author: 'author', threshold: 8.5 }, complete, never);
    expect(r).toMatchObject({ stopped_by: 'threshold', rounds: 2, artifact: 'v1', score: 9 });
  });

  it('stops when no new issues appear (normalised against all earlier rounds)', async () => {
    const complete = panel({
      v0: { r1: rv('revise', 5, 'Too long.'), r2: rv('revise', 5, 'Weak imagery'), r3: rv('revise', 5) },
      v1: { r1: rv('revise', 6, 'weak imagery'), r2: rv('revise', 6, 'too LONG'), r3: rv('revise', 6) },
    });
    const r = await review({ ...base, author: 'author', rounds: 5 }, complete, never);
    expect(r.stopped_by).toBe('no_new_issues');
    expect(r.rounds).toBe(2);
    expect(r.history!.map((h) => h.new_issues)).toEqual([2, 0]);
  });

  it('stops at max rounds and returns the BEST-scored draft, not the last', async () => {
    const complete = panel({
      v0: { r1: rv('revise', 5, 'a'), r2: rv('revise', 5, 'b'), r3: rv('revise', 5, 'c') },
      v1: { r1: rv('revise', 7, 'd'), r2: rv('revise', 7, 'e'), r3: rv('revise', 7, 'f') },
      v2: { r1: rv('revise', 4, 'g'), r2: rv('reject', 3, 'h'), r3: rv('revise', 4, 'i') },
    });
    const r = await review({ ...base, author: 'author', rounds: 3 }, complete, never);
    expect(r).toMatchObject({ stopped_by: 'max_rounds', rounds: 3, artifact: 'v1', best_round: 1, score: 7 });
    expect(r.verdict).toBe('revise'); // the last round's
    expect(complete.calls.filter((c) => c.model === 'author')).toHaveLength(2); // no unreviewed revision
  });

  it('a failing or unreadable reviewer is recorded and left out of the consolidation', async () => {
    const complete = panel({ v0: { r1: rv('accept', 9), r2: 'I like it!', r3: rv('accept', 9) } });
    const failing = fake((model, request) =>
      model === 'r3' ? Promise.reject(new Error('down')) : complete(model, request, never),
    );
    const r = await review(base, failing, never);
    expect(r.reviews.map((x) => x.error)).toEqual([undefined, 'unreadable review', 'down']);
    expect(r).toMatchObject({ verdict: 'accept', score: 9, stopped_by: 'accepted' });
  });

  it('no reviewer answering is a StrategyFailure naming each reviewer', async () => {
    const complete = fake(() => {
      throw new Error('down');
    });
    const err = await review(base, complete, never).catch((e) => e);
    expect(err).toBeInstanceOf(StrategyFailure);
    expect(err.message).toBe(
      'no reviewer returned a readable review (reviewer r1: down; reviewer r2: down; reviewer r3: down)',
    );
    expect(err).toMatchObject({ aborted: false, answered: 0 });
  });

  it('only unreadable reviews in the first round: a StrategyFailure, not a plain Error', async () => {
    const complete = panel({ v0: { r1: 'looks fine', r2: 'ok!', r3: '{"verdict": "maybe"}' } });
    const err = await review(base, complete, never).catch((e) => e);
    expect(err).toBeInstanceOf(StrategyFailure);
    expect(err.attempts).toEqual(
      ['r1', 'r2', 'r3'].map((model) => ({ model, role: 'reviewer', error: 'unreadable review' })),
    );
    // They answered (unreadably): not a request every model refused.
    expect(err.answered).toBe(3);
  });

  it('a revision nobody can read ends the loop with the best reviewed draft, marked degraded', async () => {
    const complete = panel({
      v0: { r1: rv('revise', 5, 'a'), r2: rv('revise', 6, 'b'), r3: rv('revise', 4, 'c') },
      v1: { r1: 'garbage', r2: 'garbage', r3: 'garbage' },
    });
    const r = await review({ ...base, author: 'author', rounds: 3 }, complete, never);
    expect(r).toMatchObject({ stopped_by: 'reviewers_failed', artifact: 'v0', rounds: 1, score: 5 });
    expect(r.degraded).toEqual(['reviewer_failed']);
    expect(r.reviews.filter((x) => x.round === 2).map((x) => x.error)).toEqual([
      'unreadable review',
      'unreadable review',
      'unreadable review',
    ]);
  });

  it('a failed revision keeps the best reviewed draft and says author_failed', async () => {
    const reviews = panel({
      v0: { r1: rv('revise', 5, 'a'), r2: rv('revise', 6, 'b'), r3: rv('revise', 4, 'c') },
    });
    const complete = fake((model, request) =>
      model === 'author' ? Promise.reject(new Error('503 overloaded')) : reviews(model, request, never),
    );
    const r = await review({ ...base, author: 'author', rounds: 3 }, complete, never);
    expect(r).toMatchObject({ stopped_by: 'author_failed', artifact: 'v0', best_round: 0, rounds: 1 });
    expect(r.degraded).toEqual(['author_failed']);
  });

  it('a revision stopped by the caller is an aborted StrategyFailure (the deadline, not the models)', async () => {
    const parent = new AbortController();
    const reviews = panel({
      v0: { r1: rv('revise', 5, 'a'), r2: rv('revise', 6, 'b'), r3: rv('revise', 4, 'c') },
    });
    const complete = fake((model, request) => {
      if (model !== 'author') return reviews(model, request, never);
      parent.abort();
      return Promise.reject(new Error('aborted'));
    });
    const err = await review({ ...base, author: 'author' }, complete, parent.signal).catch((e) => e);
    expect(err).toBeInstanceOf(StrategyFailure);
    expect(err.aborted).toBe(true);
    expect(err.attempts).toEqual([{ model: 'author', role: 'author', error: 'aborted' }]);
  });

  it('a failing reviewer marks the result reviewer_failed', async () => {
    const complete = panel({ v0: { r1: rv('accept', 9), r2: 'I like it!', r3: rv('accept', 9) } });
    const r = await review(base, complete, never);
    expect(r.degraded).toEqual(['reviewer_failed']);
    const clean = await review(
      base,
      panel({ v0: { r1: rv('accept', 9), r2: rv('accept', 9), r3: rv('accept', 9) } }),
      never,
    );
    expect(clean.degraded).toBeUndefined();
  });

  it('consolidate: majority, ties → revise', () => {
    const r = (verdict: Review['verdict']): Review => ({
      reviewer: 'x',
      round: 1,
      verdict,
      score: 5,
      issues: [],
    });
    expect(consolidate([r('accept'), r('accept'), r('reject')])).toBe('accept');
    expect(consolidate([r('accept'), r('reject')])).toBe('revise');
    expect(consolidate([r('reject'), r('reject'), r('accept')])).toBe('reject');
    expect(consolidate([r('accept'), r('revise'), r('reject')])).toBe('revise');
  });
});
