/** Probes, the model list, the OpenAPI document and the response headers of every proxied answer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

let fakes: Fakes;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  const config = fakesConfig(fakes);
  (config.models as any[])[0].aliases = ['oa'];
  gw = await startGateway({
    ...config,
    ensembles: {
      panel: { strategy: 'consensus', models: ['oa-model', 'an-model', 'ge-model'], judge: 'oa-model' },
    },
  });
});
afterAll(async () => {
  await gw.close();
  await fakes.close();
});

describe('probes', () => {
  it.each([
    ['/healthz', { status: 'ok' }],
    // No store and no Redis here: nothing to check beyond the process.
    ['/readyz', { status: 'ok', checks: {} }],
  ])('%s answers 200 {"status":"ok"} without a key', async (path, body) => {
    const res = await fetch(gw.url + path);
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual(body);
  });
});

describe('GET /v1/models', () => {
  it('lists models, aliases and presets in the OpenAI list shape with quorum metadata', async () => {
    const page = await gw.client().models.list();
    const byId = new Map(page.data.map((m) => [m.id, m as any]));
    expect([...byId.keys()]).toEqual([
      'oa-model',
      'oa',
      'an-model',
      'ge-model',
      'auto',
      'auto:cost',
      'auto:quality',
      'auto:latency',
      'auto:balanced',
      'panel',
    ]);
    expect(byId.get('auto').quorum).toEqual({ kind: 'router', policy: 'balanced' });
    expect(byId.get('oa-model')).toMatchObject({
      object: 'model',
      owned_by: 'oa',
      quorum: {
        kind: 'model',
        price: { input: 1, output: 2, cached_input: 0.5 },
        context_window: 128000,
        capabilities: ['tools', 'vision', 'json', 'streaming'],
      },
    });
    expect(byId.get('oa').quorum).toEqual({ kind: 'alias', alias_of: 'oa-model' });
    expect(byId.get('panel').quorum).toMatchObject({ kind: 'preset', strategy: 'consensus' });
  });

  it('an alias is served by its model', async () => {
    fakes.openai.enqueue({ text: 'via alias' });
    const res = await gw
      .client()
      .chat.completions.create({ model: 'oa', messages: [{ role: 'user', content: 'x' }] });
    expect(res.model).toBe('oa-model');
    expect(res.choices[0]!.message.content).toBe('via alias');
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document generated from the route schemas', async () => {
    const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/chat/completions',
        '/v1/embeddings',
        '/v1/models',
        '/v1/route',
        '/v1/consensus',
        '/v1/reviews',
        '/healthz',
        '/readyz',
      ]),
    );
    const post = doc.paths['/v1/chat/completions'].post;
    expect(post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ChatCompletionRequest',
    );
    expect(Object.keys(post.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '413', '502', '504']),
    );
    const req = doc.components.schemas.ChatCompletionRequest;
    expect(req.required).toEqual(expect.arrayContaining(['model', 'messages']));
    expect(doc.components.schemas.Error.properties.error.properties).toHaveProperty('code');
    const embeddings = doc.paths['/v1/embeddings'].post;
    expect(embeddings.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/EmbeddingsRequest',
    );
    expect(Object.keys(embeddings.responses)).toEqual(
      expect.arrayContaining(['200', '400', '403', '404', '429', '502']),
    );
    expect(doc.components.schemas.EmbeddingsRequest.required).toEqual(
      expect.arrayContaining(['model', 'input']),
    );
    expect(doc.components.schemas.EmbeddingList.properties).toHaveProperty('data');
  });
});

describe('response headers', () => {
  it('every answer carries the request id; proxied answers carry model, cost and overhead', async () => {
    fakes.gemini.enqueue({ text: 'ok', usage: { input: 1000, output: 100 } });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'ge-model', messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await res.text();
    const body = JSON.parse(text);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    expect(res.headers.get('x-quorum-request-id')).toBe(body.quorum.request_id);
    expect(body.id).toBe(`chatcmpl-${body.quorum.request_id}`);
    expect(res.headers.get('x-quorum-model')).toBe('ge-model');
    // 1000 × 0.5 + 100 × 1.5 per million, exactly.
    expect(res.headers.get('x-quorum-cost-usd')).toBe('0.00065');
    expect(body.quorum.cost_usd).toBe(0.00065);
    // Present and a number of milliseconds (a missing header would read as Number(null) = 0).
    expect(res.headers.get('x-quorum-overhead-ms')).toMatch(/^\d+(\.\d+)?$/);

    const health = await fetch(`${gw.url}/healthz`);
    expect(health.headers.get('x-quorum-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('streams carry the request id, model and overhead headers before the first chunk', async () => {
    fakes.openai.enqueue({ text: 'a b c' });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oa-model', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-quorum-model')).toBe('oa-model');
    expect(res.headers.get('x-quorum-request-id')).toMatch(/^[0-9a-f]{32}$/);
    // A number of milliseconds, present: Number(null) would be 0 and pass.
    expect(res.headers.get('x-quorum-overhead-ms')).toMatch(/^\d+(\.\d+)?$/);
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});
