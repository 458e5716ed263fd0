/**
 * POST /v1/embeddings: an app's `client.embeddings.create` through the real gateway, the real provider
 * adapters and the fake upstreams — vectors in input order, usage, exact cost, the catalog id as
 * `model` — with the treatment chat gets: allow-lists, budget holds, rate limits, ledger rows,
 * fallback, spans, and a clear 4xx in OpenAI's error shape for every bad request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { likelyInputTokens } from '../../src/embeddings/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { FAKE_DIMENSIONS, fakeVector, unit } from '../fakes/embeddings.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const MASTER = 'mk-embeddings-master-key';
const KEYS = {
  open: 'qk-emb-open-000001',
  limited: 'qk-emb-limited-0001',
  poor: 'qk-emb-poor-000001',
  rich: 'qk-emb-rich-000001',
  slow: 'qk-emb-slow-000001',
  audit: 'qk-emb-audit-00001',
};
const OA_PRICE = 0.02;
const GE_PRICE = 0.15;

const exporter = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager().enable();
const dir = mkdtempSync(join(tmpdir(), 'quorum-embeddings-'));
let fakes: Fakes;
let store: Store;
let gw: TestGateway;

function config(f: Fakes) {
  const base = fakesConfig(f) as { providers: Record<string, unknown>[]; models: Record<string, unknown>[] };
  const embed = (extra: Record<string, unknown>) => ({ capabilities: ['embeddings'], ...extra });
  return {
    ...base,
    // A second OpenAI-compatible account on the same fake: a model served by both can fall back.
    providers: [...base.providers, { ...base.providers[0], id: 'oa2' }],
    models: [
      ...base.models,
      embed({
        id: 'oa-embed',
        provider: 'oa',
        upstream: 'embed-up',
        context_window: 8191,
        price: { input: OA_PRICE, output: 0 },
        aliases: ['small-embed'],
      }),
      embed({
        id: 'ge-embed',
        provider: 'ge',
        upstream: 'gemini-embed-up',
        context_window: 2048,
        price: { input: GE_PRICE, output: 0 },
      }),
      embed({
        id: 'ge-embed-2',
        provider: 'ge',
        upstream: 'gemini-embedding-2-preview',
        context_window: 8192,
        price: { input: GE_PRICE, output: 0 },
      }),
      embed({
        id: 'dual-embed',
        provider: 'oa',
        upstream: 'dual-a',
        context_window: 8191,
        price: { input: 0.1, output: 0 },
      }),
      embed({
        id: 'dual-embed',
        provider: 'oa2',
        upstream: 'dual-b',
        context_window: 8191,
        price: { input: 0.1, output: 0 },
      }),
    ],
    // Each test counts upstream calls; the embeddings cache has its own suite (embeddings-cache.test.ts).
    cache: { enabled: false },
    teams: [
      { id: 'open' },
      { id: 'limited', models: ['oa-model'] },
      { id: 'poor', budget: { limit_usd: 0.000001, period: 'total' } },
      { id: 'rich', budget: { limit_usd: 1, period: 'total' } },
      { id: 'slow', limits: { rpm: 2 } },
      { id: 'audit' },
    ],
    keys: Object.entries(KEYS).map(([team, key]) => ({ key, team, name: `${team}-ci` })),
  };
}

beforeAll(async () => {
  trace.setGlobalTracerProvider(tracerProvider);
  context.setGlobalContextManager(contextManager);
  fakes = await startFakes();
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  gw = await startGateway(config(fakes), {
    masterKey: MASTER,
    gateway: { ledger: store.ledger },
    app: () => ({ store }),
  });
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await store?.close();
  await tracerProvider.shutdown();
  trace.disable();
  context.disable();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fakes.openai.reset();
  fakes.gemini.reset();
  exporter.reset();
});

const client = (key = KEYS.open) => gw.client(key);

/** A raw POST, for bodies the SDK would not send. */
async function post(body: unknown, key = KEYS.open, path = '/v1/embeddings') {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

const TEXTS = ['the cat sat on the mat', 'a dog barked', 'rain in Spain'];

/** Float32 round trip (the SDK's default base64 transport) keeps about seven significant digits. */
function expectVector(actual: ArrayLike<number>, expected: number[]) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 6);
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('through the OpenAI SDK', () => {
  it('an OpenAI-compatible upstream: vectors in input order, usage, exact cost, the catalog id', async () => {
    fakes.openai.enqueue({ usage: { input: 12 } });
    const { data, response } = await client()
      .embeddings.create({ model: 'oa-embed', input: TEXTS })
      .withResponse();
    expect(data.object).toBe('list');
    expect(data.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
      ['embedding', 2],
    ]);
    for (const [i, text] of TEXTS.entries()) expectVector(data.data[i]!.embedding, unit(fakeVector(text)));
    expect(data.model).toBe('oa-embed');
    expect(data.usage).toEqual({ prompt_tokens: 12, total_tokens: 12 });
    // 12 tokens × $0.02 per million, exactly.
    expect(response.headers.get('x-quorum-cost-usd')).toBe('0.00000024');
    expect(response.headers.get('x-quorum-model')).toBe('oa-embed');
    expect(response.headers.get('x-quorum-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(response.headers.get('x-quorum-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect((data as any).quorum).toMatchObject({
      request_id: response.headers.get('x-quorum-request-id'),
      cost_usd: 2.4e-7,
      attempts: [{ model: 'oa-embed', provider: 'oa', status: 200 }],
    });

    const [sent] = fakes.openai.received;
    expect(sent!.path).toBe('/v1/embeddings');
    expect(sent!.headers.authorization).toBe('Bearer sk-upstream-openai-secret');
    // The upstream name, the client's inputs, and the SDK's own base64 transport passed through.
    expect(sent!.body).toEqual({ model: 'embed-up', input: TEXTS, encoding_format: 'base64' });
  });

  it('a Gemini upstream: one batchEmbedContents call, vectors in order scaled to unit length', async () => {
    fakes.gemini.enqueue({ usage: { input: 12 } });
    const { data, response } = await client()
      .embeddings.create({ model: 'ge-embed', input: TEXTS })
      .withResponse();
    TEXTS.forEach((text, i) => {
      expectVector(data.data[i]!.embedding, unit(fakeVector(text)));
      expect(data.data[i]!.index).toBe(i);
    });
    expect(data.model).toBe('ge-embed');
    expect(data.usage).toEqual({ prompt_tokens: 12, total_tokens: 12 });
    expect(response.headers.get('x-quorum-cost-usd')).toBe('0.0000018'); // 12 × $0.15 / 1M

    expect(fakes.gemini.received).toHaveLength(1);
    const [sent] = fakes.gemini.received;
    expect(sent!.path).toBe('/v1beta/models/gemini-embed-up:batchEmbedContents');
    expect(sent!.body.requests.map((r: any) => r.content.parts[0].text)).toEqual(TEXTS);
  });

  it('a gemini-embedding-2 model (which the SDK treats apart) still gets one vector per input', async () => {
    const data = await client().embeddings.create({ model: 'ge-embed-2', input: TEXTS });
    for (const [i, text] of TEXTS.entries()) expectVector(data.data[i]!.embedding, unit(fakeVector(text)));
    expect(fakes.gemini.received[0]!.body.requests).toHaveLength(3);
  });

  it('a Gemini answer without usage is charged the typical token count of the inputs', async () => {
    const { data, response } = await client()
      .embeddings.create({ model: 'ge-embed', input: TEXTS })
      .withResponse();
    const tokens = likelyInputTokens(TEXTS);
    expect(tokens).toBeGreaterThan(0);
    expect(data.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expect(Number(response.headers.get('x-quorum-cost-usd'))).toBeCloseTo((tokens * GE_PRICE) / 1e6, 12);
  });

  it('an alias answers with the catalog id; one string is one vector', async () => {
    const data = await client().embeddings.create({ model: 'small-embed', input: 'just one' });
    expect(data.model).toBe('oa-embed');
    expect(data.data).toHaveLength(1);
    expectVector(data.data[0]!.embedding, unit(fakeVector('just one')));
    expect(fakes.openai.received[0]!.body.input).toBe('just one');
  });

  it.each(['oa-embed', 'ge-embed'])('encoding_format float and base64, from %s', async (model) => {
    const floats = await client().embeddings.create({ model, input: ['x y z'], encoding_format: 'float' });
    expect(Array.isArray(floats.data[0]!.embedding)).toBe(true);
    expectVector(floats.data[0]!.embedding, unit(fakeVector('x y z')));

    const encoded = await client().embeddings.create({ model, input: ['x y z'], encoding_format: 'base64' });
    const text = encoded.data[0]!.embedding as unknown as string;
    expect(typeof text).toBe('string');
    const bytes = Buffer.from(text, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expectVector(decoded, unit(fakeVector('x y z')));
  });

  it('dimensions reach the upstream (OpenAI `dimensions`, Gemini `outputDimensionality`), as unit vectors', async () => {
    const oa = await client().embeddings.create({ model: 'oa-embed', input: ['short'], dimensions: 4 });
    expect(fakes.openai.received[0]!.body.dimensions).toBe(4);
    expectVector(oa.data[0]!.embedding, unit(fakeVector('short', 4)));

    const ge = await client().embeddings.create({
      model: 'ge-embed',
      input: ['short', 'text'],
      dimensions: 5,
    });
    expect(fakes.gemini.received[0]!.body.requests.map((r: any) => r.outputDimensionality)).toEqual([5, 5]);
    for (const d of ge.data) {
      expect(d.embedding).toHaveLength(5);
      expect(norm(d.embedding)).toBeCloseTo(1, 6);
    }
    // Gemini's truncated vectors are not unit length; the gateway scales them.
    expect(norm(fakeVector('short', 5))).not.toBeCloseTo(1, 2);
    expect(FAKE_DIMENSIONS).not.toBe(5);
  });

  it('token-id arrays pass to an OpenAI-compatible upstream; a Gemini model refuses them with 400', async () => {
    const data = await client().embeddings.create({
      model: 'oa-embed',
      input: [
        [1, 2, 3],
        [4, 5],
      ],
    });
    expect(data.data).toHaveLength(2);
    expect(fakes.openai.received[0]!.body.input).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);

    const res = await post({ model: 'ge-embed', input: [[1, 2, 3]] });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_body',
      param: 'input',
    });
    expect(res.json.error.message).toMatch(/token ids/);
    expect(fakes.gemini.received).toHaveLength(0);
  });

  it('GET /v1/models lists embedding models with their capability and price', async () => {
    const models = await client().models.list();
    const embed = models.data.find((m) => m.id === 'oa-embed') as any;
    expect(embed.quorum).toMatchObject({
      kind: 'model',
      capabilities: ['embeddings'],
      price: { input: OA_PRICE, output: 0 },
    });
  });
});

describe('refusals: a clear 4xx in OpenAI error shape, and no upstream call', () => {
  const INPUT_SHAPE = /input must be a non-empty string, an array of strings/;
  it.each([
    ['missing input', { model: 'oa-embed' }, 'input', INPUT_SHAPE],
    ['an empty array', { model: 'oa-embed', input: [] }, 'input', /must not be an empty array/],
    ['an empty string', { model: 'oa-embed', input: '' }, 'input', /must not be an empty string/],
    ['an empty string in the list', { model: 'oa-embed', input: ['a', ''] }, 'input[1]', /empty string/],
    ['an empty token array', { model: 'oa-embed', input: [[1], []] }, 'input[1]', /empty array/],
    ['a number', { model: 'oa-embed', input: 42 }, 'input', INPUT_SHAPE],
    ['mixed types', { model: 'oa-embed', input: ['a', 3] }, 'input', INPUT_SHAPE],
    ['an object', { model: 'oa-embed', input: { text: 'a' } }, 'input', INPUT_SHAPE],
    ['a negative token id', { model: 'oa-embed', input: [1, -2] }, 'input[1]', />=0/],
    ['too many inputs', { model: 'oa-embed', input: Array(2049).fill('a') }, 'input', /at most 2048/],
    ['no model', { input: 'a' }, 'model', /expected string/],
    ['zero dimensions', { model: 'oa-embed', input: 'a', dimensions: 0 }, 'dimensions', /too small/i],
    [
      'a bad encoding',
      { model: 'oa-embed', input: 'a', encoding_format: 'int8' },
      'encoding_format',
      /float|base64/,
    ],
    [
      'a quorum field embeddings do not take',
      { model: 'oa-embed', input: 'a', quorum: { ensemble: {} } },
      'quorum.ensemble',
      /unknown field/,
    ],
  ])('%s → 400 naming the field', async (_what, body, param, message) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error: {
        message: expect.stringMatching(message),
        type: 'invalid_request_error',
        param,
        code: 'invalid_body',
      },
    });
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('malformed JSON → 400 with a null param', async () => {
    const res = await post('{"model": "oa-embed", "input": ');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_body',
      param: null,
    });
  });

  it('a chat model → 400 naming the problem and the embedding models served', async () => {
    const err = await client()
      .embeddings.create({ model: 'oa-model', input: 'a' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(400);
    expect((err as APIError).error).toEqual({
      message: expect.stringMatching(
        /`oa-model` is not an embedding model.*Embedding models here: oa-embed, ge-embed, ge-embed-2, dual-embed/,
      ),
      type: 'invalid_request_error',
      param: 'model',
      code: 'invalid_body',
    });
    expect(fakes.openai.received).toHaveLength(0);
  });

  it.each(['auto', 'auto:cost'])('%s → 400: embeddings name their model', async (model) => {
    const res = await post({ model, input: 'a' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ param: 'model', code: 'invalid_body' });
    expect(res.json.error.message).toMatch(/embeddings need an embedding model/);
  });

  it('an unknown model → 404 model_not_found', async () => {
    const res = await post({ model: 'no-such-embedder', input: 'a' });
    expect(res.status).toBe(404);
    expect(res.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'model_not_found',
      param: 'model',
    });
  });

  it('a model outside the allow-list → 403 model_not_allowed', async () => {
    const err = await client(KEYS.limited)
      .embeddings.create({ model: 'oa-embed', input: 'a' })
      .catch((e: unknown) => e);
    expect((err as APIError).status).toBe(403);
    expect((err as APIError).error).toMatchObject({
      type: 'permission_error',
      code: 'model_not_allowed',
      param: 'model',
    });
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('a chat request to an embedding model → 400; auto never routes chat to one', async () => {
    const chat = await post(
      { model: 'oa-embed', messages: [{ role: 'user', content: 'hi' }] },
      KEYS.open,
      '/v1/chat/completions',
    );
    expect(chat.status).toBe(400);
    expect(chat.json.error).toMatchObject({ param: 'model', code: 'invalid_body' });
    expect(chat.json.error.message).toMatch(/embedding model: it answers POST \/v1\/embeddings/);

    const routed = await post(
      { model: 'auto', messages: [{ role: 'user', content: 'hi' }] },
      KEYS.open,
      '/v1/route',
    );
    expect(routed.status).toBe(200);
    expect(routed.json.chosen).not.toMatch(/embed/);
    const embedding = routed.json.candidates.filter((c: any) => /embed/.test(c.model));
    expect(embedding.map((c: any) => c.model).sort()).toEqual([
      'dual-embed',
      'ge-embed',
      'ge-embed-2',
      'oa-embed',
    ]);
    for (const c of embedding)
      expect(c).toMatchObject({ eligible: false, reason: expect.stringMatching(/embedding model/) });
    expect(fakes.openai.received).toHaveLength(0);
  });
});

describe('budgets, rate limits, the ledger', () => {
  it('a budget that cannot cover the hold → 429 budget_exceeded, nothing called, nothing spent', async () => {
    // ~300 upper-bound tokens at $0.02/M hold more than the team's $0.000001.
    const err = await client(KEYS.poor)
      .embeddings.create({ model: 'oa-embed', input: ['word '.repeat(300)] })
      .catch((e: unknown) => e);
    expect((err as APIError).status).toBe(429);
    expect((err as APIError).error).toMatchObject({
      type: 'insufficient_quota',
      code: 'budget_exceeded',
    });
    expect((err as APIError).headers?.get('x-should-retry')).toBe('false');
    expect((err as APIError).message).toMatch(/fewer or shorter inputs/);
    expect(fakes.openai.received).toHaveLength(0);
    const budget = (await (
      await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEYS.poor}` } })
    ).json()) as any;
    expect(budget).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
  });

  it('a covered request holds, then settles to what the provider reported', async () => {
    fakes.openai.enqueue({ usage: { input: 12 } });
    await client(KEYS.rich).embeddings.create({ model: 'oa-embed', input: TEXTS });
    const budget = (await (
      await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEYS.rich}` } })
    ).json()) as any;
    expect(budget).toMatchObject({ spent_usd: 2.4e-7, reserved_usd: 0 }); // 12 × $0.02 / 1M
  });

  it('the rpm limit applies: the third request in a minute is 429 with retry-after', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await post({ model: 'oa-embed', input: 'tick' }, KEYS.slow);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.json.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
        retryAfter = res.headers.get('retry-after');
      }
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(fakes.openai.received).toHaveLength(2);
  });

  it('each upstream call is one ledger row, shown by /admin/spend', async () => {
    fakes.openai.enqueue({ usage: { input: 1 } }, {}, { error: { status: 500, message: 'down' } });
    await client(KEYS.audit).embeddings.create({ model: 'oa-embed', input: 'one' });
    await client(KEYS.audit).embeddings.create({ model: 'small-embed', input: 'two words' });
    await client(KEYS.audit)
      .embeddings.create({ model: 'oa-embed', input: 'three' })
      .catch(() => undefined);
    await store.ledger.flush();
    const res = await fetch(`${gw.url}/admin/spend?group_by=model&team=audit`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    const rows = ((await res.json()) as any).data as any[];
    const row = rows.find((r) => r.group === 'oa-embed');
    // 1 token, then the fake's count for "two words" (3), then a failed call that cost nothing.
    expect(row).toMatchObject({ requests: 3, calls: 3, input_tokens: 4, output_tokens: 0, cost_usd: 8e-8 });
  });
});

describe('failures', () => {
  it('a 500 on one deployment falls back to the other', async () => {
    fakes.openai.enqueue({ error: { status: 500, message: 'embedder down' } }, { usage: { input: 1 } });
    const { data, response } = await client()
      .embeddings.create({ model: 'dual-embed', input: 'x' })
      .withResponse();
    expect(data.model).toBe('dual-embed');
    expect((data as any).quorum.attempts.map((a: any) => a.status)).toEqual([500, 200]);
    expect(response.headers.get('x-quorum-cost-usd')).toBe('0.0000001'); // only the call that answered
    expect(fakes.openai.received.map((r) => r.body.model).sort()).toEqual(['dual-a', 'dual-b']);
  });

  it('every deployment failing → 502 upstream_failed listing the attempts', async () => {
    fakes.openai.respond({ error: { status: 500, message: 'embedder down' } });
    const res = await post({ model: 'oa-embed', input: 'x' });
    expect(res.status).toBe(502);
    expect(res.json.error).toMatchObject({ type: 'upstream_error', code: 'upstream_failed' });
    expect(res.json.error.message).toMatch(/oa-embed via oa: 500 embedder down/);
  });

  it("the provider refusing the input → 400 with the provider's words", async () => {
    fakes.openai.enqueue({ error: { status: 400, message: "'$.input' is invalid." } });
    const res = await post({ model: 'oa-embed', input: 'x' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', message: "'$.input' is invalid." });
  });
});

describe('telemetry', () => {
  it('each upstream call is an `embeddings {model}` client span with the GenAI attributes', async () => {
    fakes.openai.enqueue({ usage: { input: 2 } });
    const res = await client().embeddings.create({ model: 'oa-embed', input: ['a', 'b'], dimensions: 3 });
    await new Promise((r) => setTimeout(r, 20));
    const span = exporter.getFinishedSpans().find((s) => s.name === 'embeddings embed-up')!;
    expect(span).toBeDefined();
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'embed-up',
      'gen_ai.response.model': 'embed-up',
      'gen_ai.usage.input_tokens': 2,
      'gen_ai.embeddings.dimension.count': 3,
      'gen_ai.request.encoding_formats': ['base64'],
      'quorum.cost_usd': (res as any).quorum.cost_usd,
    });
    const server = exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/embeddings')!;
    expect(span.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });
});
