import { describe, expect, expectTypeOf, it } from 'vitest';
import { analyzeTask, taskCategories } from '../../../routing/analyze.ts';
import { topCategory } from '../../../routing/categorize.ts';
import type { RouteRequest } from '../../../routing/request.ts';
import { estimatePromptTokens } from '../../../routing/tokens.ts';
import { CATEGORIES } from '../../../routing/types.ts';
import type { ChatRequest } from '../../../src/chat/schema.ts';
import { user } from './fixtures.ts';
import { type Band, HELD_OUT, type LabelledPrompt, PROMPTS } from './prompts.ts';

const ALL = [...PROMPTS, ...HELD_OUT];
const requestOf = (p: LabelledPrompt) =>
  typeof p.prompt === 'string' ? user(p.prompt) : { messages: p.prompt };
const profile = (p: LabelledPrompt) => analyzeTask(requestOf(p));

function accuracy(table: readonly LabelledPrompt[]) {
  const misses: string[] = [];
  for (const p of table) {
    const t = profile(p);
    const top = topCategory(t.categories);
    if (top !== p.category)
      misses.push(`${p.name}: expected ${p.category}, got ${top} ${JSON.stringify(t.categories)}`);
  }
  return { share: (table.length - misses.length) / table.length, misses };
}

describe('taskCategories', () => {
  it("weighs every labelled prompt's categories exactly as analyzeTask does", () => {
    for (const p of ALL) {
      const request = requestOf(p);
      expect(taskCategories(request), p.name).toEqual(analyzeTask(request).categories);
    }
  });
});

describe('analyzeTask on the labelled table', () => {
  it('has at least 60 prompts covering every category and band', () => {
    expect(ALL.length).toBeGreaterThanOrEqual(60);
    for (const c of CATEGORIES) expect(ALL.some((p) => p.category === c)).toBe(true);
    for (const b of ['low', 'medium', 'high'] as Band[])
      expect(ALL.filter((p) => p.band === b).length).toBeGreaterThan(10);
  });

  it('gets the top category right for at least 90% of the prompts', () => {
    const all = accuracy(ALL);
    const held = accuracy(HELD_OUT);
    console.log(
      `category accuracy: ${(all.share * 100).toFixed(1)}% of ${ALL.length}; held-out ${(held.share * 100).toFixed(1)}% of ${HELD_OUT.length}` +
        (all.misses.length ? `\nmisses:\n  ${all.misses.join('\n  ')}` : ''),
    );
    expect(all.share).toBeGreaterThanOrEqual(0.9);
    expect(held.share).toBeGreaterThanOrEqual(0.8);
  });

  it('separates the difficulty bands', () => {
    const by: Record<Band, { name: string; d: number }[]> = { low: [], medium: [], high: [] };
    for (const p of ALL) by[p.band].push({ name: p.name, d: profile(p).difficulty });
    const max = (xs: { d: number }[]) => Math.max(...xs.map((x) => x.d));
    const min = (xs: { d: number }[]) => Math.min(...xs.map((x) => x.d));
    const mean = (xs: { d: number }[]) => xs.reduce((s, x) => s + x.d, 0) / xs.length;
    const outside = [
      ...by.low.filter((x) => x.d >= 0.3).map((x) => `low ${x.name} ${x.d}`),
      ...by.medium.filter((x) => x.d < 0.1 || x.d > 0.7).map((x) => `medium ${x.name} ${x.d}`),
      ...by.high.filter((x) => x.d <= 0.35).map((x) => `high ${x.name} ${x.d}`),
    ];
    expect(outside).toEqual([]);
    // Every low prompt is easier than every high one, and the band means are ordered.
    expect(max(by.low)).toBeLessThan(min(by.high));
    expect(mean(by.low)).toBeLessThan(mean(by.medium));
    expect(mean(by.medium)).toBeLessThan(mean(by.high));
  });
});

describe('analyzeTask', () => {
  it('scores greetings as general and trivial', () => {
    for (const text of ['hi', 'Hello!', 'thanks so much', 'good evening, how are you?']) {
      const t = analyzeTask(user(text));
      expect(topCategory(t.categories)).toBe('general');
      expect(t.difficulty).toBeLessThanOrEqual(0.05);
    }
  });

  it('keeps a greeting trivial under a long system prompt', () => {
    const t = analyzeTask({
      messages: [
        { role: 'system', content: 'You are a helpful assistant. '.repeat(200) },
        { role: 'user', content: 'hey' },
      ],
    });
    expect(t.difficulty).toBeLessThanOrEqual(0.05);
  });

  it('returns weights in [0, 1] summing to 1 and a difficulty in [0, 1]', () => {
    for (const p of ALL) {
      const t = profile(p);
      let sum = 0;
      for (const c of CATEGORIES) {
        expect(t.categories[c]).toBeGreaterThanOrEqual(0);
        expect(t.categories[c]).toBeLessThanOrEqual(1);
        sum += t.categories[c];
      }
      expect(sum).toBeCloseTo(1, 9);
      expect(t.difficulty).toBeGreaterThanOrEqual(0);
      expect(t.difficulty).toBeLessThanOrEqual(1);
    }
  });

  it('is general with full weight for an empty or text-free conversation', () => {
    const t = analyzeTask({ messages: [{ role: 'user', content: '' }] });
    expect(t.categories).toEqual({ general: 1, code: 0, math: 0, reasoning: 0, writing: 0 });
    expect(t.difficulty).toBe(0);
  });

  it('reads the last user message, with earlier turns as context only', () => {
    const t = analyzeTask({
      messages: [
        { role: 'user', content: 'Write a poem about the sea.' },
        { role: 'assistant', content: 'The sea, the sea...' },
        {
          role: 'user',
          content: '```python\ndef f(x):\n    return x[0]\n```\nWhy does this raise IndexError?',
        },
      ],
    });
    expect(topCategory(t.categories)).toBe('code');
    expect(t.categories.writing).toBeGreaterThan(0);
  });

  it('grows harder with length, constraints and hardness cues', () => {
    const base = analyzeTask(user('Write a function that sorts a list.')).difficulty;
    const constrained = analyzeTask(
      user(
        'Write a function that sorts a list. It must be stable, must not allocate, must run in O(n log n), must handle NaN, and each edge case must be tested.',
      ),
    ).difficulty;
    expect(constrained).toBeGreaterThan(base);
  });

  it('derives required capabilities from the body', () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    expect(analyzeTask({ ...user('x'), tools }).required).toEqual(['tools']);
    expect(analyzeTask({ ...user('x'), tools, tool_choice: 'none' }).required).toEqual([]);
    expect(analyzeTask({ ...user('x'), tools: [] }).required).toEqual([]);
    expect(
      analyzeTask({
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: null, tool_calls: [{ function: { name: 'w', arguments: '{}' } }] },
          { role: 'tool', content: '{"t": 20}' },
        ],
      }).required,
    ).toEqual(['tools']);
    const image = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          ],
        },
      ],
    };
    expect(analyzeTask(image).required).toEqual(['vision']);
    expect(analyzeTask({ ...user('x'), response_format: { type: 'json_object' } }).required).toEqual([
      'json',
    ]);
    expect(analyzeTask({ ...user('x'), response_format: { type: 'json_schema' } }).required).toEqual([
      'json',
    ]);
    expect(analyzeTask({ ...user('x'), response_format: { type: 'text' } }).required).toEqual([]);
    expect(analyzeTask({ ...user('x'), stream: true }).required).toEqual(['streaming']);
    expect(analyzeTask({ ...user('x'), stream: false }).required).toEqual([]);
    expect(
      analyzeTask({ ...image, tools, response_format: { type: 'json_object' }, stream: true }).required,
    ).toEqual(['tools', 'vision', 'json', 'streaming']);
  });

  it('estimates prompt tokens and takes the larger of max_completion_tokens and max_tokens', () => {
    const tools = [{ type: 'function', function: { name: 'lookup' } }];
    const req = { ...user('hello there'), tools };
    expect(analyzeTask(req).promptTokens).toBe(estimatePromptTokens(req.messages, tools));
    expect(analyzeTask(req).maxOutputTokens).toBeNull();
    expect(analyzeTask({ ...req, max_tokens: 100 }).maxOutputTokens).toBe(100);
    expect(analyzeTask({ ...req, max_completion_tokens: 50 }).maxOutputTokens).toBe(50);
    // Both reach an OpenAI-compatible upstream, which may honour either: the hold covers the larger.
    expect(analyzeTask({ ...req, max_tokens: 100, max_completion_tokens: 50 }).maxOutputTokens).toBe(100);
    expect(analyzeTask({ ...req, max_tokens: 50, max_completion_tokens: 100 }).maxOutputTokens).toBe(100);
    expect(analyzeTask({ ...req, max_tokens: null, max_completion_tokens: null }).maxOutputTokens).toBeNull();
  });

  it('is deterministic', () => {
    for (const p of ALL.slice(0, 20)) expect(profile(p)).toEqual(profile(p));
  });

  it('profiles a megabyte prompt (its speed is measured by npm run bench)', () => {
    const big = 'Refactor this function, keep behaviour. '.repeat(25_000);
    const t = analyzeTask(user(big));
    expect(t.promptTokens).toBeGreaterThan(200_000);
    expect(t.categories.code).toBeGreaterThan(0);
  });

  it("accepts the gateway's ChatRequest", () => {
    expectTypeOf<ChatRequest>().toExtend<RouteRequest>();
  });
});
