import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../../src/chat/index.ts';
import { startFakeGemini } from '../../../fakes/gemini.ts';
import type { FakeServer } from '../../../fakes/harness.ts';
import { adapterFor, call, collect, MODEL, upstreamError } from './helpers.ts';

let fake: FakeServer;
let adapter: ReturnType<typeof adapterFor>;

beforeAll(async () => {
  fake = await startFakeGemini();
  adapter = adapterFor(fake.url);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const texts = (events: StreamEvent[]) => events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');

describe('gemini adapter: stream', () => {
  it('streams text deltas in order, then finish, then usage', async () => {
    fake.enqueue({ text: 'The quick brown fox jumps.', usage: { input: 11, output: 6 } });
    const events = await collect(adapter.stream(call({})));
    expect(fake.received[0]!.path).toBe(`/v1beta/models/${MODEL}:streamGenerateContent`);
    expect(events[0]).toEqual({ type: 'model', model: `${MODEL}-001` });
    const deltas = events.filter((e) => e.type === 'text');
    expect(deltas.length).toBe(5);
    expect(texts(events)).toBe('The quick brown fox jumps.');
    expect(events.slice(-2)).toEqual([
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 11, completion_tokens: 6 } },
    ]);
    expect(events.filter((e) => e.type === 'model')).toHaveLength(1);
  });

  it('streams parallel function calls as whole tool_call events with indices 0 and 1', async () => {
    fake.enqueue({
      text: 'Looking up.',
      toolCalls: [
        { name: 'get_weather', arguments: '{"city":"Paris"}' },
        { name: 'get_time', arguments: '{"tz":"Europe/Rome"}' },
      ],
    });
    const events = await collect(
      adapter.stream(
        call({
          tools: [
            { type: 'function', function: { name: 'get_weather' } },
            { type: 'function', function: { name: 'get_time' } },
          ],
        }),
      ),
    );
    const calls = events.filter((e) => e.type === 'tool_call');
    expect(calls).toEqual([
      {
        type: 'tool_call',
        index: 0,
        id: expect.stringMatching(/^call_/),
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      },
      {
        type: 'tool_call',
        index: 1,
        id: expect.stringMatching(/^call_/),
        name: 'get_time',
        arguments: '{"tz":"Europe/Rome"}',
      },
    ]);
    expect(
      calls[0]!.type === 'tool_call' && calls[1]!.type === 'tool_call' && calls[0]!.id !== calls[1]!.id,
    ).toBe(true);
    expect(texts(events)).toBe('Looking up.');
    expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  it('leaves thought summaries out of the text and counts thinking in usage', async () => {
    fake.enqueue({ text: 'Answer.', usage: { input: 5, output: 2, reasoning: 40, cached: 3 } });
    const events = await collect(adapter.stream(call({})));
    expect(texts(events)).toBe('Answer.');
    expect(events.at(-1)).toEqual({
      type: 'usage',
      usage: { prompt_tokens: 5, completion_tokens: 42, cached_tokens: 3, reasoning_tokens: 40 },
    });
  });

  it('reports a truncated stream as length', async () => {
    fake.enqueue({ text: 'Once upon a time', finish: 'length' });
    const events = await collect(adapter.stream(call({})));
    expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'length' });
  });

  it('a stream slower than timeout_ms overall is not cut while chunks keep coming', async () => {
    const slow = adapterFor(fake.url, { timeout_ms: 300 });
    // Seven chunks 100 ms apart: the whole stream outlasts timeout_ms, no gap between chunks does.
    fake.enqueue({ text: 'one two three four five six seven', chunkDelayMs: 100 });
    const events = await collect(slow.stream(call({})));
    expect(texts(events)).toBe('one two three four five six seven');
    expect(events.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('stalls longer than timeout_ms fail as timeout', async () => {
    const slow = adapterFor(fake.url, { timeout_ms: 200 });
    fake.enqueue({ text: 'one two', chunkDelayMs: 1_000 });
    const seen: StreamEvent[] = [];
    const err = await upstreamError(
      (async () => {
        for await (const e of slow.stream(call({}))) seen.push(e);
      })(),
    );
    expect(err).toMatchObject({ failure: 'timeout', status: 0 });
    expect(texts(seen)).toBe('one ');
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });

  it('aborting mid-stream closes the upstream request and fails as aborted', async () => {
    fake.enqueue({ text: 'a b c d e f g h', chunkDelayMs: 50 });
    const controller = new AbortController();
    const seen: StreamEvent[] = [];
    const err = await upstreamError(
      (async () => {
        for await (const e of adapter.stream(call({}, controller.signal))) {
          seen.push(e);
          if (e.type === 'text') controller.abort();
        }
      })(),
    );
    expect(err).toMatchObject({ failure: 'aborted', status: 0 });
    expect(seen.some((e) => e.type === 'finish')).toBe(false);
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });

  it('a consumer that stops reading early releases the upstream connection', async () => {
    fake.enqueue({ text: 'a b c d e f g h', chunkDelayMs: 50 });
    for await (const e of adapter.stream(call({}))) {
      if (e.type === 'text') break;
    }
    await fake.received[0]!.done;
    expect(fake.received[0]!.aborted).toBe(true);
  });

  it('a connection dropped mid-stream fails as connection (retryable)', async () => {
    fake.enqueue({ text: 'a b c d e f', dropAfterChunks: 2, chunkDelayMs: 20 });
    const seen: StreamEvent[] = [];
    const err = await upstreamError(
      (async () => {
        for await (const e of adapter.stream(call({}))) seen.push(e);
      })(),
    );
    expect(texts(seen)).toBe('a b ');
    expect(err.failure).toBe('connection');
    expect(err.retryable).toBe(true);
  });

  it('an HTTP error before the first chunk surfaces with the provider status and message', async () => {
    fake.enqueue({ error: { status: 503, message: 'The model is overloaded. Please try again later.' } });
    const err = await upstreamError(collect(adapter.stream(call({}))));
    expect(err).toMatchObject({
      status: 503,
      failure: 'http',
      code: 'UNAVAILABLE',
      message: 'The model is overloaded. Please try again later.',
    });
    expect(err.retryable).toBe(true);
  });
});
