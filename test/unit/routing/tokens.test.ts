import { describe, expect, it } from 'vitest';
import { estimatePromptTokens, estimateTextTokens } from '../../../routing/tokens.ts';

describe('estimateTextTokens', () => {
  it('counts about four characters per token, rounding up', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('a')).toBe(1);
    expect(estimateTextTokens('abcd')).toBe(1);
    expect(estimateTextTokens('abcde')).toBe(2);
    expect(estimateTextTokens('x'.repeat(4000))).toBe(1000);
  });

  it('grows monotonically with the text', () => {
    let previous = 0;
    for (let n = 0; n <= 64; n++) {
      const t = estimateTextTokens('y'.repeat(n));
      expect(t).toBeGreaterThanOrEqual(previous);
      previous = t;
    }
  });
});

describe('estimatePromptTokens', () => {
  it('charges a fixed overhead for an empty conversation and per message', () => {
    const none = estimatePromptTokens([]);
    const one = estimatePromptTokens([{ role: 'user', content: '' }]);
    const two = estimatePromptTokens([
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ]);
    expect(none).toBeGreaterThan(0);
    expect(one).toBeGreaterThan(none);
    expect(two - one).toBe(one - none);
  });

  it('adds the text of string content', () => {
    const empty = estimatePromptTokens([{ role: 'user', content: '' }]);
    const text = estimatePromptTokens([{ role: 'user', content: 'x'.repeat(400) }]);
    expect(text - empty).toBe(100);
  });

  it('counts text parts and refusals like string content', () => {
    const asString = estimatePromptTokens([{ role: 'user', content: 'x'.repeat(80) }]);
    const asParts = estimatePromptTokens([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'x'.repeat(40) },
          { type: 'text', text: 'x'.repeat(40) },
        ],
      },
    ]);
    expect(asParts).toBe(asString);
    const refusal = estimatePromptTokens([
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'x'.repeat(80) }] },
    ]);
    expect(refusal).toBe(asString);
  });

  it('charges each image a generous fixed amount, whatever its URL length', () => {
    const base = estimatePromptTokens([{ role: 'user', content: [{ type: 'text', text: 'what is this?' }] }]);
    const short = estimatePromptTokens([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
        ],
      },
    ]);
    const huge = estimatePromptTokens([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } },
        ],
      },
    ]);
    expect(short - base).toBe(765);
    expect(huge).toBe(short);
  });

  it('counts assistant tool calls (name and arguments)', () => {
    const without = estimatePromptTokens([{ role: 'assistant', content: null }]);
    const withCall = estimatePromptTokens([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { function: { name: 'get_weather', arguments: JSON.stringify({ city: 'Paris', days: 3 }) } },
        ],
      },
    ]);
    expect(withCall - without).toBe(
      estimateTextTokens('get_weather') + estimateTextTokens(JSON.stringify({ city: 'Paris', days: 3 })),
    );
  });

  it('counts tool definitions, and nothing for an empty tool list', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const tools = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
    ];
    expect(estimatePromptTokens(messages, [])).toBe(estimatePromptTokens(messages));
    expect(estimatePromptTokens(messages, tools) - estimatePromptTokens(messages)).toBe(
      estimateTextTokens(JSON.stringify(tools)),
    );
  });

  it('never underestimates plain text below chars/4 (safe for budget reservation)', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    expect(estimatePromptTokens([{ role: 'user', content: text }])).toBeGreaterThanOrEqual(text.length / 4);
  });
});
