import { describe, expect, it } from 'vitest';
import { analyzeTask, costBounds, taskCategories } from '../../../routing/analyze.ts';
import { TextMemo } from '../../../routing/text-memo.ts';

/** A memo over a function that counts its calls. */
function counting(options: ConstructorParameters<typeof TextMemo>[1]) {
  const calls: string[] = [];
  const memo = new TextMemo((text: string) => {
    calls.push(text);
    return { length: text.length };
  }, options);
  return { memo, calls };
}

const text = (c: string, n: number) => c.repeat(n);

describe('TextMemo', () => {
  it('computes a long text once and hands back the same result for an equal text', () => {
    const { memo, calls } = counting({ minLength: 10 });
    const first = memo.get(text('a', 20));
    // an equal string built anew, as each request's parsed body is
    const again = memo.get(['a'.repeat(10), 'a'.repeat(10)].join(''));
    expect(again).toBe(first);
    expect(calls).toHaveLength(1);
  });

  it('tells apart texts filed under the same key (same length, same sampled characters)', () => {
    const { memo, calls } = counting({ minLength: 10 });
    // 1,000 characters: every 15th is sampled, and the last 16; position 1 is not
    const a = `x${'a'.repeat(999)}`;
    const b = `xb${'a'.repeat(998)}`;
    expect(memo.get(a)).toEqual({ length: 1000 });
    expect(memo.get(b)).toEqual({ length: 1000 });
    expect(calls).toEqual([a, b]);
    memo.get(a);
    memo.get(b);
    expect(calls).toHaveLength(2);
    expect(memo.size).toBe(2);
  });

  it('computes short texts every time and does not keep them', () => {
    const { memo, calls } = counting({ minLength: 10 });
    memo.get('short');
    memo.get('short');
    expect(calls).toEqual(['short', 'short']);
    expect(memo.size).toBe(0);
  });

  it('lets the least recently used go first when over its entries', () => {
    const { memo, calls } = counting({ minLength: 1, maxEntries: 2 });
    memo.get('aa');
    memo.get('bb');
    memo.get('aa'); // now the most recent
    memo.get('cc'); // evicts bb
    memo.get('aa');
    memo.get('bb');
    expect(calls).toEqual(['aa', 'bb', 'cc', 'bb']);
    expect(memo.size).toBe(2);
  });

  it('holds no more characters than its bound, and computes a text over the bound without keeping it', () => {
    const { memo, calls } = counting({ minLength: 1, maxChars: 100 });
    memo.get(text('a', 60));
    memo.get(text('b', 60)); // 120 characters: a goes
    expect(memo.size).toBe(1);
    memo.get(text('c', 101));
    memo.get(text('c', 101));
    expect(calls.filter((t) => t.startsWith('c'))).toHaveLength(2);
    memo.get(text('b', 60));
    expect(calls.filter((t) => t.startsWith('b'))).toHaveLength(1);
  });
});

describe('analysis of long prompts, remembered', () => {
  const system = 'You are a careful reviewer of TypeScript code. Explain each bug, then fix it. '.repeat(40);
  const request = (ask: string) => ({
    model: 'auto',
    messages: [
      { role: 'system' as const, content: system },
      { role: 'user' as const, content: ask },
    ],
  });

  it('gives the same analysis for a repeated system prompt as for a first sight of it', () => {
    const asks = [
      'Why does `let x: number = "1"` not compile?',
      'Prove that the sum of two odd numbers is even.',
    ];
    for (const ask of asks) {
      // a fresh copy each time: equal strings, never the same objects
      const first = analyzeTask(structuredClone(request(ask)));
      const again = analyzeTask(structuredClone(request(ask)));
      expect(again).toEqual(first);
      expect(taskCategories(structuredClone(request(ask)))).toEqual(first.categories);
      expect(costBounds(structuredClone(request(ask))).promptTokens).toBe(first.promptTokens);
    }
    // the shared system prompt does not make different asks look alike
    expect(analyzeTask(request(asks[0]!)).categories).not.toEqual(analyzeTask(request(asks[1]!)).categories);
  });
});
