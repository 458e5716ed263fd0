import type { ChatRequest, StreamEvent } from '../../../../src/chat/index.ts';
import type { ProviderConfig } from '../../../../src/config/schema.ts';
import { createGeminiAdapter } from '../../../../src/providers/gemini/index.ts';
import type { UpstreamCall } from '../../../../src/providers/types.ts';
import { UpstreamError } from '../../../../src/providers/upstream-error.ts';

export const MODEL = 'gemini-2.5-flash';

export function adapterFor(baseUrl: string, overrides: Partial<ProviderConfig> = {}) {
  return createGeminiAdapter({
    id: 'gemini',
    type: 'gemini',
    base_url: baseUrl,
    api_key: 'test-key',
    timeout_ms: 5_000,
    max_retries: 0,
    ...overrides,
  });
}

export function call(request: Partial<ChatRequest>, signal = new AbortController().signal): UpstreamCall {
  return {
    model: MODEL,
    request: {
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'Hello there' }],
      ...request,
    } as ChatRequest,
    signal,
  };
}

export async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

/** Runs the promise, expecting an UpstreamError, and returns it. */
export async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof UpstreamError) return err;
    throw err;
  }
  throw new Error('expected an UpstreamError');
}
