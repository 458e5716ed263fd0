/**
 * Text chunks in OpenAI's compact shape are matched instead of parsed. Whatever a chunk holds — any
 * text, any escape, any damage — the reader must produce exactly what parsing it produces: the same
 * events, the same end, the same refusal. The reference is the same reader given the chunk with a
 * leading space, which JSON ignores and the match does not accept.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamEvent } from '../../../../src/chat/index.ts';
import { ChunkReader } from '../../../../src/providers/openai/stream.ts';
import { damaged, randomText, seeded } from '../../helpers/random-text.ts';

const text = (random: () => number) => randomText(random, 12);

/** A chunk as OpenAI writes it, with or without its optional members. */
function openaiChunk(random: () => number, content: string, model = 'gpt-4o-mini-2024-07-18'): string {
  const pick = () => random() < 0.5;
  return (
    `{"id":"chatcmpl-${Math.floor(random() * 1e9)}","object":"chat.completion.chunk","created":${Math.floor(random() * 2e9)},` +
    `"model":${JSON.stringify(model)},${pick() ? '"service_tier":"default",' : ''}${pick() ? '"system_fingerprint":"fp_0ba0d124f1",' : ''}` +
    `"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},${pick() ? '"logprobs":null,' : ''}"finish_reason":null}]` +
    `${pick() ? ',"usage":null' : ''}${pick() ? `,"obfuscation":${JSON.stringify(text(random))}` : ''}}`
  );
}

/** Chunks of other shapes: a role, a finish, usage, tool calls, an error, another order, spaces. */
function otherChunks(random: () => number): string[] {
  const content = text(random);
  return [
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`,
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`,
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]}`,
    `{"error":{"message":"overloaded","type":"server_error"}}`,
    `{"object":"chat.completion.chunk","id":"c","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}`,
    `{"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": ${JSON.stringify(content)}}, "finish_reason": null}]}`,
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}`,
    `{"id":"c","object":"chat.completion.chunk","created":-1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`,
    `{"id":"c","object":"chat.completion.chunk","created":01,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`,
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":1,"delta":{"content":"x"},"finish_reason":null}]}`,
    `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"usage":{"prompt_tokens":1}}`,
  ];
}

type Outcome = { events: StreamEvent[]; more?: boolean; error?: string };

function read(reader: ChunkReader, data: string, name?: string): Outcome {
  const events: StreamEvent[] = [];
  try {
    return { events, more: reader.event(data, name, events) };
  } catch (err) {
    return {
      events,
      error: (err as Error).constructor.name + (err instanceof SyntaxError ? '' : (err as Error).message),
    };
  }
}

/** The same stream read by the reader and by the reference; every step must agree. */
function agree(chunks: string[], name?: string) {
  const reader = new ChunkReader('p');
  const reference = new ChunkReader('p');
  for (const chunk of chunks) {
    expect(read(reader, chunk, name), chunk).toEqual(read(reference, ` ${chunk}`, name));
  }
  expect(reader.finished).toBe(reference.finished);
}

afterEach(() => vi.restoreAllMocks());

describe('text chunks matched, not parsed', () => {
  it('reads OpenAI-shaped text chunks as parsing them reads them, whatever the text', () => {
    const random = seeded(7);
    for (let i = 0; i < 3000; i++) {
      const model = random() < 0.1 ? text(random) : 'gpt-4o';
      agree([openaiChunk(random, text(random), model), openaiChunk(random, text(random), model)]);
    }
  });

  it('reads every other shape by parsing it, interleaved with text chunks', () => {
    const random = seeded(11);
    for (let i = 0; i < 300; i++) {
      const stream = [...otherChunks(random), openaiChunk(random, text(random))].sort(() => random() - 0.5);
      agree(stream);
    }
    agree([openaiChunk(random, 'hello')], 'error');
  });

  it('refuses a damaged chunk exactly when parsing refuses it, and reads it the same otherwise', () => {
    const random = seeded(13);
    for (let i = 0; i < 5000; i++) {
      const chunk =
        random() < 0.8 ? openaiChunk(random, text(random)) : otherChunks(random)[Math.floor(random() * 12)]!;
      agree([damaged(random, chunk)]);
    }
  });

  it('does not parse a plain text chunk of the shape OpenAI sends', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const random = seeded(17);
    const events: StreamEvent[] = [];
    const reader = new ChunkReader('p');
    reader.event(openaiChunk(random, 'Hello there'), undefined, events);
    reader.event(openaiChunk(random, ' world'), undefined, events);
    expect(parse).not.toHaveBeenCalled();
    expect(events).toEqual([
      { type: 'model', model: 'gpt-4o-mini-2024-07-18' },
      { type: 'text', text: 'Hello there' },
      { type: 'text', text: ' world' },
    ]);
  });
});
