/** Token bounds of a Messages body: blocks counted as the content they carry. */
import { describe, expect, it } from 'vitest';
import { costBoundsOf, promptRange } from '../../../src/messages/index.ts';

// A 1×1 PNG's header, then a megabyte of padding: a large image body, a small image.
const PNG_HEAD =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

describe('promptRange', () => {
  it('counts an image by its size, not by the length of its base64', () => {
    const data = PNG_HEAD.replace(/=+$/, '') + 'A'.repeat(1_000_000);
    const range = promptRange({
      messages: [
        {
          role: 'user',
          content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }],
        },
      ],
    });
    expect(range.most).toBeLessThan(2_000);
  });

  it('counts system blocks, tool calls and results, thinking, and tool definitions', () => {
    const empty = promptRange({ messages: [{ role: 'user', content: '' }] }).most;
    const long = 'word '.repeat(400);
    for (const body of [
      { system: [{ type: 'text' as const, text: long }], messages: [{ role: 'user' as const, content: '' }] },
      {
        messages: [
          { role: 'assistant' as const, content: [{ type: 'thinking', thinking: long, signature: 's' }] },
        ],
      },
      {
        messages: [
          {
            role: 'assistant' as const,
            content: [{ type: 'tool_use', id: 't', name: 'f', input: { q: long } }],
          },
        ],
      },
      {
        messages: [
          { role: 'user' as const, content: [{ type: 'tool_result', tool_use_id: 't', content: long }] },
        ],
      },
      { messages: [{ role: 'user' as const, content: '' }], tools: [{ name: 'f', description: long }] },
    ]) {
      expect(promptRange(body).most - empty).toBeGreaterThan(300);
    }
  });

  it('counts hostile nested content as its JSON, without calling anything on it', () => {
    const hostile = { toString: 'x', valueOf: 'y' };
    const range = promptRange({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'url', url: hostile, media_type: hostile } },
            { type: 'image', source: { type: 'base64', data: 'AAAA', media_type: hostile } },
            {
              type: 'document',
              source: { type: 'content', content: [null, 7, hostile, { type: 'text', text: hostile }] },
            },
            { type: 'document', source: { type: 'file', file_id: hostile, url: hostile } },
            { type: 'document', source: { type: 'content', content: { constructor: { prototype: {} } } } },
          ],
        },
      ],
    });
    expect(range.most).toBeGreaterThan(0);
  });

  it('bounds a hold by the prompt and max_tokens', () => {
    const bounds = costBoundsOf({ max_tokens: 512, messages: [{ role: 'user', content: 'hello there' }] });
    expect(bounds.maxOutputTokens).toBe(512);
    expect(bounds.promptTokensMax).toBeGreaterThanOrEqual(bounds.promptTokens);
  });
});
