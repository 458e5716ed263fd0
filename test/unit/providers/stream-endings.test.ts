/**
 * How each adapter's stream ends, against the fault-injecting upstream: a stream that closes without
 * its terminator (OpenAI finish reason, Anthropic message_stop, Gemini finishReason) or is cut by our own
 * abort fails with an UpstreamError — never a quiet end the gateway would pass on as a complete answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, StreamEvent } from '../../../src/chat/index.ts';
import type { ProviderType } from '../../../src/config/index.ts';
import { createAdapter } from '../../../src/providers/index.ts';
import { UpstreamError } from '../../../src/providers/upstream-error.ts';
import { type Fault, type FaultyUpstream, faultMarker, startFaultyUpstream } from '../../fakes/faulty.ts';

let upstream: FaultyUpstream;
beforeAll(async () => {
  upstream = await startFaultyUpstream();
});
afterAll(() => upstream.close());

const TYPES: ProviderType[] = ['openai', 'anthropic', 'gemini'];

/** Streams one answer; with `abortOnText`, aborts our signal once the answer has started. */
async function stream(type: ProviderType, fault: Fault, abortOnText = false) {
  const controller = new AbortController();
  const adapter = await createAdapter({
    id: type,
    type,
    base_url: type === 'openai' ? `${upstream.url}/v1` : upstream.url,
    api_key: 'test-key',
    timeout_ms: 30_000,
    max_retries: 0,
  } as Parameters<typeof createAdapter>[0]);
  const request = {
    model: 'm',
    messages: [{ role: 'user', content: `hello ${faultMarker(fault)}` }],
  } as ChatRequest;
  const events: StreamEvent[] = [];
  try {
    for await (const e of adapter.stream({ model: 'faulty-model', request, signal: controller.signal })) {
      events.push(e);
      if (abortOnText && e.type === 'text') controller.abort();
    }
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

describe.each(TYPES)('%s adapter: stream endings', (type) => {
  it('a complete stream ends with its finish reason', async () => {
    const { events, error } = await stream(type, 'ok');
    expect(error).toBeUndefined();
    expect(events.some((e) => e.type === 'finish' && e.reason === 'stop')).toBe(true);
  });

  it('a stream that closes cleanly without its terminator fails as a dropped connection', async () => {
    const { events, error } = await stream(type, 'unterminated');
    expect(events.some((e) => e.type === 'text')).toBe(true);
    expect(events.some((e) => e.type === 'finish')).toBe(false);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).failure).toBe('connection');
  });

  // The deadline passing on an upstream that went silent mid-answer.
  it('a silent stream cut by our own abort fails as aborted, not as a finished answer', async () => {
    const { events, error } = await stream(type, 'stall-mid', true);
    expect(events.some((e) => e.type === 'finish')).toBe(false);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).failure).toBe('aborted');
  });
});
