import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../../../../src/chat/index.ts';
import { ProviderSchema } from '../../../../src/config/schema.ts';
import { createAnthropicAdapter } from '../../../../src/providers/anthropic/index.ts';
import { FenceStripper } from '../../../../src/providers/anthropic/stream.ts';
import type { ProviderAdapter } from '../../../../src/providers/types.ts';
import { UpstreamError } from '../../../../src/providers/upstream-error.ts';
import { type AnthropicFakeReply, startFakeAnthropic } from '../../../fakes/anthropic.ts';
import type { FakeServer } from '../../../fakes/harness.ts';

let fake: FakeServer;
let adapter: ProviderAdapter;

const call = (request: Partial<ChatRequest> = {}, signal = new AbortController().signal) => ({
  model: 'claude-test',
  request: {
    model: 'claude-haiku',
    messages: [{ role: 'user', content: 'Hello there' }],
    ...request,
  } as ChatRequest,
  signal,
});

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

/** Collects until the stream throws; returns what arrived before and the error. */
async function collectUntilError(stream: AsyncIterable<StreamEvent>) {
  const events: StreamEvent[] = [];
  try {
    for await (const e of stream) events.push(e);
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return { events, error: err as UpstreamError };
  }
  throw new Error('stream ended without an error');
}

const texts = (events: StreamEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : []));

beforeAll(async () => {
  fake = await startFakeAnthropic();
  adapter = createAnthropicAdapter(
    ProviderSchema.parse({ id: 'claude', type: 'anthropic', base_url: fake.url, api_key: 'sk-ant-test' }),
  );
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('anthropic adapter: stream', () => {
  it('yields the model, text deltas in order, then finish and usage', async () => {
    fake.enqueue({ text: 'The quick brown fox', usage: { input: 12, output: 5 } });
    const events = await collect(adapter.stream(call()));

    expect(fake.received[0]!.body.stream).toBe(true);
    expect(events[0]).toEqual({ type: 'model', model: 'claude-test-20250101' });
    expect(texts(events)).toEqual(['The ', 'quick ', 'brown ', 'fox']);
    expect(events.slice(-2)).toEqual([
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 12, completion_tokens: 5 } },
    ]);
  });

  it('reports cached prompt tokens in the stream usage', async () => {
    const reply: AnthropicFakeReply = {
      text: 'ok',
      usage: { input: 200, output: 3, cached: 150 },
      cacheCreation: 20,
    };
    fake.enqueue(reply);
    const events = await collect(adapter.stream(call()));
    expect(events.at(-1)).toEqual({
      type: 'usage',
      usage: { prompt_tokens: 200, completion_tokens: 3, cached_tokens: 150 },
    });
  });

  it('numbers tool calls 0 and 1 after a leading text block, with ids, names and whole arguments', async () => {
    fake.enqueue({
      text: 'Let me check.',
      toolCalls: [
        { id: 'toolu_a', name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
        { id: 'toolu_b', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ],
    });
    const events = await collect(
      adapter.stream(call({ tools: [{ type: 'function', function: { name: 'get_weather' } }] })),
    );

    const calls = events.filter((e) => e.type === 'tool_call');
    expect(calls.filter((c) => c.id)).toEqual([
      { type: 'tool_call', index: 0, id: 'toolu_a', name: 'get_weather' },
      { type: 'tool_call', index: 1, id: 'toolu_b', name: 'get_time' },
    ]);
    const argsOf = (i: number) =>
      calls
        .filter((c) => c.index === i)
        .map((c) => c.arguments ?? '')
        .join('');
    expect(argsOf(0)).toBe('{"city":"Paris","unit":"c"}');
    expect(argsOf(1)).toBe('{"tz":"Europe/Paris"}');
    // Each call's arguments arrived in more than one fragment and were passed on as fragments.
    expect(calls.filter((c) => c.index === 0 && c.arguments).length).toBeGreaterThanOrEqual(2);
    expect(texts(events).join('')).toBe('Let me check.');
    expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('strips a ```json fence from a streamed JSON-mode answer', async () => {
    fake.enqueue({ text: '```json\n{"answer": 42, "ok": true}\n```' });
    const events = await collect(adapter.stream(call({ response_format: { type: 'json_object' } })));
    expect(JSON.parse(texts(events).join(''))).toEqual({ answer: 42, ok: true });
    expect(events.at(-2)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('turns a mid-stream overloaded_error event into a retryable 529 after the text so far', async () => {
    const reply: AnthropicFakeReply = {
      text: 'Partial answer',
      streamError: { type: 'overloaded_error', message: 'Overloaded' },
    };
    fake.enqueue(reply);
    const { events, error } = await collectUntilError(adapter.stream(call()));
    expect(texts(events).join('')).toBe('Partial answer');
    expect(error).toMatchObject({
      status: 529,
      code: 'overloaded_error',
      message: 'Overloaded',
      retryable: true,
    });
  });

  it('maps a mid-stream api_error to a 500', async () => {
    const reply: AnthropicFakeReply = {
      text: 'x',
      streamError: { type: 'api_error', message: 'Internal server error' },
    };
    fake.enqueue(reply);
    const { error } = await collectUntilError(adapter.stream(call()));
    expect(error).toMatchObject({ status: 500, retryable: true });
  });

  it('reports an HTTP error before the stream starts with its status and retry-after', async () => {
    fake.enqueue({ error: { status: 429, message: 'rate limited', retryAfterSeconds: 3 } });
    const { events, error } = await collectUntilError(adapter.stream(call()));
    expect(events).toEqual([]);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 3000, message: 'rate limited' });
  });

  it('reports a connection dropped mid-stream as a connection failure, not a finished answer', async () => {
    fake.enqueue({ text: 'one two three four five six', dropAfterChunks: 4 });
    const { events, error } = await collectUntilError(adapter.stream(call()));
    expect(events.some((e) => e.type === 'finish')).toBe(false);
    expect(error).toMatchObject({ status: 0, failure: 'connection', retryable: true });
  });

  it('aborting the signal mid-stream ends the upstream request', async () => {
    const controller = new AbortController();
    fake.enqueue({ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 25 });
    const stream = adapter.stream(call({}, controller.signal));
    const seen: StreamEvent[] = [];
    let error: unknown;
    try {
      for await (const e of stream) {
        seen.push(e);
        if (e.type === 'text') controller.abort();
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).failure).toBe('aborted');
    expect(texts(seen).length).toBeLessThan(16);
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });
});

describe('FenceStripper', () => {
  const run = (pieces: string[]) => {
    const f = new FenceStripper();
    return pieces.map((p) => f.push(p)).join('') + f.end();
  };
  const everySplit = (text: string) =>
    Array.from({ length: text.length + 1 }, (_, i) => run([text.slice(0, i), text.slice(i)]));

  it('removes the fence wherever the deltas are cut', () => {
    for (const out of everySplit('```json\n{"a": "`b`"}\n```\n')) expect(out).toBe('{"a": "`b`"}');
    expect(run([...'```\n[1, 2]\n```'])).toBe('[1, 2]');
  });

  it('passes unfenced text through untouched, including backticks inside', () => {
    for (const out of everySplit('{"code": "```x```"}')) expect(out).toBe('{"code": "```x```"}');
    expect(run(['``', 'x'])).toBe('``x');
  });
});
