import { describe, expect, it } from 'vitest';
import { GatherError, gather, NOT_NEEDED, needed, UNREACHABLE } from '../../../consensus/gather.ts';
import { StrategyFailure } from '../../../consensus/strategy-failure.ts';
import type { Completion, CompletionRequest } from '../../../consensus/types.ts';
import { abortable, ask, deferred, done, never } from './fakes.ts';

const q = ask('2+2?');

/** Each model gets a deferred answer the test settles; signals are captured. */
function controlled(models: string[]) {
  const pending = new Map(models.map((m) => [m, deferred<Completion>()]));
  const signals = new Map<string, AbortSignal>();
  const complete = (model: string, _r: CompletionRequest, signal: AbortSignal) => {
    signals.set(model, signal);
    return abortable(pending.get(model)!.promise, signal);
  };
  return { pending, signals, complete };
}

describe('gather', () => {
  it('waits for all by default and returns records in candidate order', async () => {
    const { pending, complete } = controlled(['a', 'b', 'c']);
    const p = gather(['a', 'b', 'c'], q, complete, never);
    pending.get('c')!.resolve(done('c', '3'));
    pending.get('a')!.resolve(done('a', '1'));
    pending.get('b')!.resolve(done('b', '2'));
    const got = await p;
    expect(got.records.map((r) => r.content)).toEqual(['1', '2', '3']);
    expect(got.answers.map((a) => a.index)).toEqual([0, 1, 2]);
  });

  it('returns at the quorum and aborts the rest, which see their signal aborted', async () => {
    const { pending, signals, complete } = controlled(['a', 'b', 'c']);
    const p = gather(['a', 'b', 'c'], q, complete, never, 2);
    pending.get('b')!.resolve(done('b', 'B'));
    pending.get('c')!.resolve(done('c', 'C'));
    const got = await p;
    expect(got.answers.map((a) => a.index)).toEqual([1, 2]);
    expect(got.records[0]).toMatchObject({ model: 'a', content: null, error: NOT_NEEDED, cost_usd: 0 });
    expect(signals.get('a')!.aborted).toBe(true);
    // A late answer changes nothing.
    pending.get('a')!.resolve(done('a', 'late'));
    await new Promise((r) => setTimeout(r, 0));
    expect(got.records[0]!.error).toBe(NOT_NEEDED);
  });

  it('records failures without throwing when enough answered', async () => {
    const complete = async (model: string) => {
      if (model === 'bad') throw new Error('upstream 500');
      return done(model, 'ok');
    };
    const got = await gather(['good', 'bad', 'good2'], q, complete, never);
    expect(got.records[1]).toMatchObject({ model: 'bad', content: null, error: 'upstream 500' });
    expect(got.answers).toHaveLength(2);
  });

  it('treats a synchronous throw as a failed candidate', async () => {
    const complete = (model: string) => {
      if (model === 'bad') throw new Error('boom');
      return Promise.resolve(done(model, 'ok'));
    };
    const got = await gather(['bad', 'good'], q, complete, never);
    expect(got.records[0]!.error).toBe('boom');
  });

  it('rejects listing every failure when nobody answers', async () => {
    const complete = async (model: string): Promise<Completion> => {
      throw new Error(`${model} down`);
    };
    const err = await gather(['a', 'b'], q, complete, never).catch((e) => e);
    expect(err).toBeInstanceOf(GatherError);
    expect(err).toBeInstanceOf(StrategyFailure);
    expect(err.message).toBe(
      '0 of 2 candidates answered, 1 needed (candidate a: a down; candidate b: b down)',
    );
    expect(err.attempts).toEqual([
      { model: 'a', role: 'candidate', error: 'a down' },
      { model: 'b', role: 'candidate', error: 'b down' },
    ]);
    expect(err.answered).toBe(0);
    expect(err.records.map((r: { error: string }) => r.error)).toEqual(['a down', 'b down']);
    expect(err.aborted).toBe(false);
  });

  it('rejects as soon as the quorum is unreachable and aborts the rest', async () => {
    const { pending, signals, complete } = controlled(['a', 'b', 'c']);
    const p = gather(['a', 'b', 'c'], q, complete, never, 3);
    pending.get('a')!.reject(new Error('429'));
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(GatherError);
    expect(err.needed).toBe(3);
    expect(err.records.map((r: { error?: string }) => r.error)).toEqual(['429', UNREACHABLE, UNREACHABLE]);
    expect(signals.get('b')!.aborted && signals.get('c')!.aborted).toBe(true);
  });

  it('a quorum of 2 with one answer is fewer than needed', async () => {
    const complete = async (model: string) => {
      if (model !== 'a') throw new Error('down');
      return done(model, 'x');
    };
    await expect(gather(['a', 'b', 'c'], q, complete, never, 2)).rejects.toThrow(
      /1 of 3 candidates answered, 2 needed/,
    );
  });

  it('parent abort settles at once: answers so far if enough, else aborted error', async () => {
    const { pending, signals, complete } = controlled(['a', 'b']);
    const parent = new AbortController();
    const p = gather(['a', 'b'], q, complete, parent.signal);
    pending.get('a')!.resolve(done('a', '1'));
    await new Promise((r) => setTimeout(r, 0));
    parent.abort(new Error('deadline'));
    const got = await p;
    expect(got.answers).toHaveLength(1);
    expect(got.records[1]!.error).toBe('aborted (deadline)');
    expect(signals.get('b')!.aborted).toBe(true);

    const none = controlled(['a']);
    const parent2 = new AbortController();
    const p2 = gather(['a'], q, none.complete, parent2.signal);
    parent2.abort(new Error('deadline'));
    const err = await p2.catch((e) => e);
    expect(err).toBeInstanceOf(GatherError);
    expect(err.aborted).toBe(true);
  });

  it('settles on parent abort even if `complete` ignores its signal', async () => {
    const parent = new AbortController();
    const p = gather(['a'], q, () => new Promise<Completion>(() => {}), parent.signal);
    parent.abort();
    await expect(p).rejects.toBeInstanceOf(GatherError);
  });

  it('rejects an empty candidate list', async () => {
    await expect(gather([], q, async () => done('x', ''), never)).rejects.toBeInstanceOf(GatherError);
  });

  it('needed: quorum clamps to 1..n, default 1', () => {
    expect(needed(3)).toBe(1);
    expect(needed(3, 2)).toBe(2);
    expect(needed(3, 9)).toBe(3);
    expect(needed(3, 0)).toBe(1);
    expect(needed(3, 2.7)).toBe(2);
  });
});
