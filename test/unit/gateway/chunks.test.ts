/**
 * A delta chunk's JSON is written from its stream's head and its delta, not by walking the object: it
 * must be byte for byte what `JSON.stringify` writes, for any text a model can send, and a changed copy
 * of a chunk must be written as it is, not as the stream's head says.
 */
import { describe, expect, it } from 'vitest';
import { ChunkBuilder, chunkJson } from '../../../src/gateway/replies/chunks.ts';
import { seeded, randomText as text } from '../helpers/random-text.ts';

const randomText = (random: () => number) => text(random, 40);

describe('chunkJson', () => {
  it('writes every delta chunk exactly as JSON.stringify does', () => {
    const random = seeded(42);
    for (let i = 0; i < 2000; i++) {
      const builder = new ChunkBuilder(
        `chatcmpl-${randomText(random)}`,
        Math.floor(random() * 2e9),
        randomText(random),
      );
      const text = builder.delta({ content: randomText(random) });
      const role = builder.delta({ role: 'assistant', content: '' });
      const call = builder.delta({
        tool_calls: [
          {
            index: 0,
            id: randomText(random),
            type: 'function',
            function: { name: 'f', arguments: randomText(random) },
          },
        ],
      });
      for (const chunk of [text, role, call]) expect(chunkJson(chunk)).toBe(JSON.stringify(chunk));
    }
  });

  it('writes a delta changed after it was built as it now is', () => {
    const chunk = new ChunkBuilder('chatcmpl-1', 1, 'm').delta({ content: 'before' });
    (chunk.choices[0].delta as { content: string }).content = 'after';
    expect(JSON.parse(chunkJson(chunk)).choices[0].delta.content).toBe('after');
  });

  it('writes a copy whole: a changed or extended copy is not the stream head', () => {
    const chunk = new ChunkBuilder('chatcmpl-1', 1, 'm').delta({ content: 'hi' });
    const renamed = { ...chunk, model: 'other' };
    const extended = { ...chunk, usage: { prompt_tokens: 1 } };
    expect(JSON.parse(chunkJson(renamed)).model).toBe('other');
    expect(JSON.parse(chunkJson(extended)).usage).toEqual({ prompt_tokens: 1 });
    expect(chunkJson(extended)).toBe(JSON.stringify(extended));
  });

  it('writes the finishing and usage chunks as JSON.stringify does', () => {
    const builder = new ChunkBuilder('chatcmpl-1', 1, 'm');
    const extra = {
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      quorum: { request_id: 'r' },
    };
    for (const chunk of [builder.finish('stop'), builder.finish('length', extra), builder.usage(extra)]) {
      expect(chunkJson(chunk)).toBe(JSON.stringify(chunk));
    }
  });
});
