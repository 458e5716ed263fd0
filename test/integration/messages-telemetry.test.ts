/**
 * A passed-through Messages call has its GenAI client span like any adapter call — under the request's
 * server span, with the usage read on the side — and no key or prompt in it.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AnthropicFakeReply } from '../fakes/anthropic.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();
const KEY = 'qk-messages-telemetry-secret';
let fakes: Fakes;
let gw: TestGateway;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
  fakes = await startFakes();
  gw = await startGateway(
    fakesConfig(fakes, { teams: [{ id: 'obs' }], keys: [{ key: KEY, team: 'obs', name: 'obs' }] }),
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
});

it.each([false, true])(
  'stream: %s — one chat span under the server span, with usage and cost',
  async (stream) => {
    exporter.reset();
    fakes.anthropic.enqueue({
      text: 'hello',
      usage: { input: 30, output: 4, cached: 10 },
      cacheCreation: 5,
    } as AnthropicFakeReply);
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      body: JSON.stringify({
        model: 'an-model',
        max_tokens: 77,
        stream,
        messages: [{ role: 'user', content: 'a secret prompt about herons' }],
      }),
    });
    expect(res.status).toBe(200);
    await res.text();
    await new Promise((r) => setTimeout(r, 20));
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === 'POST /v1/messages')!;
    const client = spans.filter((s) => s.name === 'chat claude-up');
    expect(client).toHaveLength(1);
    expect(client[0]!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(client[0]!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-up',
      'gen_ai.request.max_tokens': 77,
      'gen_ai.response.model': 'claude-up-20250101',
      'gen_ai.usage.input_tokens': 30,
      'gen_ai.usage.output_tokens': 4,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(client[0]!.attributes['quorum.cost_usd']).toBeGreaterThan(0);
    const everything = JSON.stringify(spans.map((s) => s.attributes));
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain('sk-ant-upstream-secret');
    expect(everything).not.toContain('herons');
  },
);
