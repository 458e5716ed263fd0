import { describe, expect, it } from 'vitest';
import { bestOfN } from '../../../consensus/best-of-n.ts';
import { judgeReply, readPrompt } from './fake-judge.ts';
import { ask, done, fake, never } from './fakes.ts';

const q = ask('Explain TCP slow start.');

describe('best_of_n', () => {
  it("returns the judge's choice, with each candidate's score", async () => {
    const texts: Record<string, string> = { a: 'meh answer', b: 'great answer', c: 'ok answer' };
    const quality: Record<string, number> = { meh: 3, great: 9, ok: 6 };
    const complete = fake((model, request) =>
      model === 'judge' ? judgeReply(request, { quality: (t) => quality[t.split(' ')[0]!]! }) : texts[model]!,
    );
    const r = await bestOfN(q, { models: ['a', 'b', 'c'], judge: 'judge' }, complete, never);
    expect(r.strategy).toBe('best_of_n');
    expect(r.content).toBe('great answer');
    expect(r.selected).toEqual({ index: 1, model: 'b' });
    expect(r.candidates.map((c) => c.score)).toEqual([3, 9, 6]);
    expect(r.judge?.model).toBe('judge');
    expect(r.judge?.rationale).toMatch(/scores highest/);
    expect(r.calls).toHaveLength(5); // 3 candidates + 2 judge passes
  });

  it('judges in both orders by default: the second pass is the first reversed', async () => {
    const orders: string[][] = [];
    const complete = fake((model, request) => {
      if (model !== 'judge') return `answer ${model}`;
      orders.push(readPrompt(request).blocks.map((b) => b.text));
      return 'A: 5\nB: 5\nC: 5';
    });
    await bestOfN(q, { models: ['a', 'b', 'c'], judge: 'judge', seed: 3 }, complete, never);
    expect(orders).toHaveLength(2);
    expect(orders[1]).toEqual([...orders[0]!].reverse());
    const one = fake((model) => (model === 'judge' ? 'A: 5' : 'x'));
    await bestOfN(q, { models: ['a', 'b'], judge: 'judge', bothOrders: false }, one, never);
    expect(one.calls.filter((c) => c.model === 'judge')).toHaveLength(1);
  });

  it('the seed decides the order, reproducibly', async () => {
    const firstShown = async (seed: number) => {
      let first = '';
      const complete = fake((model, request) => {
        if (model !== 'judge') return `answer ${model}`;
        first ||= readPrompt(request).blocks[0]!.text;
        return 'Best: A';
      });
      await bestOfN(q, { models: ['a', 'b', 'c', 'd'], judge: 'judge', seed }, complete, never);
      return first;
    };
    expect(await firstShown(5)).toBe(await firstShown(5));
    const seen = new Set(await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(firstShown)));
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a tie goes to the cheaper candidate, then the earlier one', async () => {
    const costs: Record<string, number> = { a: 0.02, b: 0.005, c: 0.005 };
    const complete = fake((model, request) =>
      model === 'judge'
        ? judgeReply(request, { quality: () => 7 })
        : done(model, `answer ${model}`, { cost_usd: costs[model]! }),
    );
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = await bestOfN(q, { models: ['a', 'b', 'c'], judge: 'judge', seed }, complete, never);
      expect(r.selected.model).toBe('b');
    }
  });

  it('hides model names from the judge', async () => {
    let prompt = '';
    const complete = fake((model, request) => {
      if (model === 'judge') {
        prompt = JSON.stringify(request.messages);
        return 'Best: B';
      }
      return 'some answer';
    });
    await bestOfN(q, { models: ['gpt-4o', 'claude-sonnet'], judge: 'judge' }, complete, never);
    expect(prompt).not.toMatch(/gpt-4o|claude-sonnet/);
  });

  it('uses a custom rubric', async () => {
    let system = '';
    const complete = fake((model, request) => {
      if (model === 'judge') system = request.messages[0]!.content as string;
      return model === 'judge' ? 'Best: A' : 'x';
    });
    await bestOfN(q, { models: ['a', 'b'], judge: 'judge', rubric: 'Brevity above all.' }, complete, never);
    expect(system).toContain('Rubric: Brevity above all.');
  });

  it('a lone "Best: X" verdict still picks', async () => {
    const complete = fake((model, request) => {
      if (model !== 'judge') return `answer ${model}`;
      const b = readPrompt(request).blocks.find((x) => x.text === 'answer b')!;
      return `Best: ${b.label}`;
    });
    const r = await bestOfN(q, { models: ['a', 'b', 'c'], judge: 'judge' }, complete, never);
    expect(r.selected.model).toBe('b');
    expect(r.candidates[1]!.score).toBe(10);
  });

  it('if the judge fails, the first answer is kept and the record says so', async () => {
    const complete = fake((model) => {
      if (model === 'judge') throw new Error('judge down');
      return `answer ${model}`;
    });
    const r = await bestOfN(q, { models: ['a', 'b'], judge: 'judge' }, complete, never);
    expect(r.selected.index).toBe(0);
    expect(r.judge?.rationale).toMatch(/judge failed \(judge down; judge down\)/);
  });

  it('a single answer needs no judge', async () => {
    const complete = fake((model) => {
      if (model === 'b') throw new Error('down');
      return 'only';
    });
    const r = await bestOfN(q, { models: ['a', 'b'], judge: 'judge' }, complete, never);
    expect(r.content).toBe('only');
    expect(complete.calls.some((c) => c.model === 'judge')).toBe(false);
  });

  it('requires a judge', async () => {
    await expect(
      bestOfN(
        q,
        { models: ['a'] },
        fake(() => 'x'),
        never,
      ),
    ).rejects.toThrow(/judge/);
  });
});
