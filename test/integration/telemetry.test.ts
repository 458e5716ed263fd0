/**
 * Telemetry baseline: one server span per request, one `chat {model}` client span per upstream call
 * with the GenAI attributes, parented correctly; no key ever in a span or a log line.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();
let fakes: Fakes;
let gw: TestGateway;
const CLIENT_KEY = 'qk-telemetry-secret-key-42';

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
  fakes = await startFakes();
  gw = await startGateway({
    ...fakesConfig(fakes),
    teams: [{ id: 'observers' }],
    keys: [{ key: CLIENT_KEY, team: 'observers', name: 'otel-test' }],
  });
});
afterAll(async () => {
  await gw.close();
  await fakes.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

async function settled() {
  // Streams end their spans just after the last byte; give the event loop a turn.
  await new Promise((r) => setTimeout(r, 20));
  return exporter.getFinishedSpans();
}

describe('spans', () => {
  it('a request makes a server span with a chat client span under it', async () => {
    fakes.anthropic.enqueue({ text: 'hello', usage: { input: 11, output: 3 } });
    const res = await gw.client(CLIENT_KEY).chat.completions.create({
      model: 'an-model',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'a secret prompt about pelicans' }],
    });
    const spans = await settled();
    const server = spans.find((s) => s.name === 'POST /v1/chat/completions')!;
    const client = spans.find((s) => s.name === 'chat claude-up')!;
    expect(server).toBeDefined();
    expect(client).toBeDefined();
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(client.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(client.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-up',
      'gen_ai.response.model': expect.stringContaining('claude-up'),
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.request.max_tokens': 50,
    });
    expect(client.attributes['quorum.cost_usd']).toBe((res as any).quorum.cost_usd);
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'quorum.team': 'observers',
      'quorum.request_id': (res as any).quorum.request_id,
    });
  });

  it('one client span per upstream attempt, failures marked with error.type', async () => {
    fakes.openai.enqueue({ error: { status: 503, message: 'busy' } });
    fakes.anthropic.enqueue({ text: 'fallback answer' });
    await gw.client(CLIENT_KEY).chat.completions.create({
      model: 'oa-model',
      messages: [{ role: 'user', content: 'x' }],
      quorum: { fallbacks: ['an-model'] },
    } as any);
    const spans = await settled();
    const chats = spans.filter((s) => s.name.startsWith('chat '));
    expect(chats.map((s) => s.name)).toEqual(['chat gpt-up', 'chat claude-up']);
    expect(chats[0]!.attributes['error.type']).toBe('503');
    expect(chats[0]!.status.code).toBe(2);
    expect(chats[1]!.attributes['error.type']).toBeUndefined();
  });

  it('a streamed call keeps its span open until the stream ends, with usage', async () => {
    fakes.gemini.enqueue({ text: 'streamed words here', usage: { input: 9, output: 4 } });
    const stream = await gw.client(CLIENT_KEY).chat.completions.create({
      model: 'ge-model',
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    for await (const _ of stream) {
      // drain
    }
    const spans = await settled();
    const chat = spans.find((s) => s.name === 'chat gemini-up')!;
    expect(chat.attributes).toMatchObject({
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 4,
    });
    const server = spans.find((s) => s.name === 'POST /v1/chat/completions')!;
    expect(chat.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it('a streamed Responses request gets the same spans: the server span, with the chat span under it', async () => {
    fakes.anthropic.enqueue({ text: 'responses words', usage: { input: 7, output: 2 } });
    const stream = gw
      .client(CLIENT_KEY)
      .responses.stream({ model: 'an-model', input: 'a secret about herons' });
    const response = await stream.finalResponse();
    const spans = await settled();
    const server = spans.find((s) => s.name === 'POST /v1/responses')!;
    const chat = spans.find((s) => s.name === 'chat claude-up')!;
    expect(chat.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(chat.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 7,
      'gen_ai.usage.output_tokens': 2,
    });
    expect(server.attributes).toMatchObject({
      'http.response.status_code': 200,
      'quorum.team': 'observers',
      'quorum.request_id': (response as any).quorum.request_id,
    });
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('herons');
  });

  it('an auto request records a quorum.route span with the policy and the chosen model', async () => {
    fakes.gemini.enqueue({ text: 'routed' });
    await gw.client(CLIENT_KEY).chat.completions.create({
      model: 'auto:cost',
      messages: [{ role: 'user', content: 'hello' }],
    });
    const spans = await settled();
    const routeSpan = spans.find((s) => s.name === 'quorum.route')!;
    const server = spans.find((s) => s.name === 'POST /v1/chat/completions')!;
    expect(routeSpan.attributes).toMatchObject({
      'quorum.route.policy': 'cost',
      'quorum.route.chosen': 'ge-model',
    });
    expect(routeSpan.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(spans.some((s) => s.name === 'chat gemini-up')).toBe(true);
  });

  it('a fan-out records quorum.ensemble {strategy} with a child per candidate, each over its chat span', async () => {
    fakes.openai.enqueue({ text: '42' });
    fakes.anthropic.enqueue({ text: '42' });
    await gw.client(CLIENT_KEY).chat.completions.create({
      model: 'oa-model',
      messages: [{ role: 'user', content: 'six times seven?' }],
      quorum: { ensemble: { strategy: 'consensus', models: ['oa-model', 'an-model'] } },
    } as any);
    const spans = await settled();
    const ensemble = spans.find((s) => s.name === 'quorum.ensemble consensus')!;
    const candidates = spans.filter((s) => s.name.startsWith('quorum.candidate '));
    expect(ensemble.attributes).toMatchObject({
      'quorum.ensemble.strategy': 'consensus',
      'quorum.agreement': 1,
    });
    expect(candidates.map((s) => s.name).sort()).toEqual([
      'quorum.candidate an-model',
      'quorum.candidate oa-model',
    ]);
    for (const c of candidates) expect(c.parentSpanContext?.spanId).toBe(ensemble.spanContext().spanId);
    const chat = spans.find((s) => s.name === 'chat claude-up')!;
    const anCandidate = candidates.find((s) => s.name.endsWith('an-model'))!;
    expect(chat.parentSpanContext?.spanId).toBe(anCandidate.spanContext().spanId);
  });

  it('records no prompt, completion or key on any span', async () => {
    fakes.openai.enqueue({ text: 'the completion text zebra' });
    await gw.client(CLIENT_KEY).chat.completions.create({
      model: 'oa-model',
      messages: [{ role: 'user', content: 'the prompt text pelican' }],
    });
    const dump = JSON.stringify(
      (await settled()).map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
    );
    expect(dump).not.toContain('pelican');
    expect(dump).not.toContain('zebra');
    expect(dump).not.toContain(CLIENT_KEY);
    expect(dump).not.toContain('upstream-openai-secret');
  });
});

describe('logs', () => {
  it('have one line per request with its request id, and never a key or a prompt', async () => {
    fakes.openai.enqueue({ text: 'fine' });
    const { response } = await gw
      .client(CLIENT_KEY)
      .chat.completions.create({
        model: 'oa-model',
        messages: [{ role: 'user', content: 'confidential walrus' }],
      })
      .withResponse();
    await gw
      .client('wrong-key-should-not-be-logged')
      .models.list()
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    const logs = gw.logs();
    const id = response.headers.get('x-quorum-request-id')!;
    const line = logs.split('\n').find((l) => l.includes(id))!;
    expect(JSON.parse(line)).toMatchObject({ req_id: id, status: 200, team: 'observers', model: 'oa-model' });
    expect(logs).not.toContain(CLIENT_KEY);
    expect(logs).not.toContain('wrong-key-should-not-be-logged');
    expect(logs).not.toContain('sk-upstream-openai-secret');
    expect(logs).not.toContain('walrus');
  });
});
