/**
 * Hostile and broken input on the real server with the fake upstreams: deeply nested JSON on every
 * JSON endpoint, requests a provider is known to refuse, admin values out of range and upstream error
 * text carrying secrets. Each must be a 4xx in the OpenAI error shape (or a clean 502), never a 500,
 * and none may harm another team: the circuit breaker of a deployment stays closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';

const MASTER = 'mk-bad-input-master-key';
const ALPHA = 'qk-alpha-0123456789';
const BETA = 'qk-beta-0123456789';

let fakes: Fakes;
let gw: TestGateway;
let store: Store;
const dir = mkdtempSync(join(tmpdir(), 'quorum-bad-input-'));

beforeAll(async () => {
  fakes = await startFakes();
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  gw = await startGateway(
    fakesConfig(fakes, {
      teams: [{ id: 'alpha' }, { id: 'beta' }],
      keys: [
        { key: ALPHA, team: 'alpha', name: 'alpha-ci' },
        { key: BETA, team: 'beta', name: 'beta-ci' },
      ],
    }),
    { masterKey: MASTER, app: () => ({ store }) },
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fakes.openai.reset();
  fakes.anthropic.reset();
  fakes.gemini.reset();
});

async function post(path: string, body: string | object, key = ALPHA) {
  const res = await fetch(gw.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}

/** `{"a":{"a":…1…}}` nested `depth` deep, built as text so nothing here recurses. */
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const DEEP = 10_000;
const hello = '[{"role":"user","content":"hello"}]';

const upstreamCalls = () =>
  fakes.openai.received.length + fakes.anthropic.received.length + fakes.gemini.received.length;

function expectBadBody(res: { status: number; json: any; text: string }) {
  expect(res.status, res.text.slice(0, 300)).toBe(400);
  expect(res.json).toEqual({
    error: {
      message: expect.stringMatching(/nested deeper than 64 levels.*server\.max_json_depth/),
      type: 'invalid_request_error',
      param: expect.toSatisfy((p: unknown) => p === null || typeof p === 'string'),
      code: 'invalid_body',
    },
  });
}

describe('JSON nested 10,000 deep is a 400 invalid_body on every JSON endpoint', () => {
  const chat = (extra: string) => `{"model":"oa-model","messages":${hello},${extra}}`;
  it.each([
    ['tools', chat(`"tools":[{"type":"function","function":{"name":"f","parameters":${deepObject(DEEP)}}}]`)],
    ['an unknown field', chat(`"extra":${deepArray(DEEP)}`)],
    [
      'response_format',
      chat(
        `"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${deepObject(DEEP)}}}`,
      ),
    ],
    ['a message content', `{"model":"oa-model","messages":[{"role":"user","content":${deepArray(DEEP)}}]}`],
  ])('/v1/chat/completions: %s', async (_what, body) => {
    expectBadBody(await post('/v1/chat/completions', body));
    expect(upstreamCalls()).toBe(0);
  });

  it('/v1/route', async () => {
    expectBadBody(await post('/v1/route', chat(`"tools":${deepArray(DEEP)}`)));
  });

  it('/v1/consensus', async () => {
    const body = `{"strategy":"consensus","model":"oa-model","models":["oa-model","an-model"],"messages":${hello},"metadata":${deepObject(DEEP)}}`;
    expectBadBody(await post('/v1/consensus', body));
    expect(upstreamCalls()).toBe(0);
  });

  it('/v1/reviews', async () => {
    const body = `{"artifact":"x","instructions":"review","reviewers":["oa-model"],"extra":${deepArray(DEEP)}}`;
    expectBadBody(await post('/v1/reviews', body));
    expect(upstreamCalls()).toBe(0);
  });

  it('admin endpoints', async () => {
    expectBadBody(await post('/admin/teams', `{"id":"deep","models":${deepArray(DEEP)}}`, MASTER));
    expectBadBody(
      await post('/admin/keys', `{"team":"alpha","name":"n","limits":${deepObject(DEEP)}}`, MASTER),
    );
  });

  it('a body nested exactly to the limit is still read', async () => {
    // 64 levels in all: the body object, `quorum`, `tags`, then 61 more.
    const res = await post(
      '/v1/route',
      `{"model":"oa-model","messages":${hello},"quorum":{"tags":${deepArray(61)}}}`,
    );
    expect(res.status).not.toBe(500);
    expect(res.json?.error?.message ?? '').not.toMatch(/nested deeper/);
  });
});

describe('bad requests never open a circuit for everyone else', () => {
  it('after many deep and many empty-content requests, another team still reaches both models', async () => {
    const N = 8; // the breaker opens after 3 consecutive failures, or over half of 5 in its window
    for (let i = 0; i < N; i++) {
      const deep = await post(
        '/v1/chat/completions',
        `{"model":"oa-model","messages":${hello},"tools":[{"type":"function","function":{"name":"f","parameters":${deepObject(DEEP)}}}]}`,
      );
      expect(deep.status).toBe(400);
      const empty = await post('/v1/chat/completions', {
        model: 'ge-model',
        messages: [{ role: 'user', content: '' }],
      });
      expect(empty.status).toBe(400);
      expect(empty.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body' });
    }
    expect(fakes.gemini.received).toHaveLength(0);

    for (const model of ['oa-model', 'ge-model']) {
      const res = await post(
        '/v1/chat/completions',
        { model, messages: [{ role: 'user', content: 'hi' }] },
        BETA,
      );
      expect(res.status, res.text).toBe(200);
    }
    expect(fakes.openai.received).toHaveLength(1);
    expect(fakes.gemini.received).toHaveLength(1);
  });

  it("a provider's 4xx answers the request and counts nothing against the deployment", async () => {
    const ask = (key: string) =>
      post(
        '/v1/chat/completions',
        { model: 'oa-model', messages: [{ role: 'user', content: 'x' }], quorum: { fallbacks: [] } },
        key,
      );
    fakes.openai.respond({
      error: { status: 400, message: "Invalid value for 'logit_bias'.", type: 'invalid_request_error' },
    });
    for (let i = 0; i < 6; i++) {
      const res = await ask(ALPHA);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ type: 'invalid_request_error' });
      expect(res.json.error.message).toContain('logit_bias');
    }
    // A 401/403/404 says the deployment's key or model is wrong: the client gets a 502, the circuit stays shut.
    for (const status of [401, 403, 404]) {
      fakes.openai.respond({ error: { status, message: 'no', type: 'invalid_request_error' } });
      for (let i = 0; i < 3; i++) expect((await ask(ALPHA)).status).toBe(502);
    }
    fakes.openai.reset();
    const res = await ask(BETA);
    expect(res.status, res.text).toBe(200);
    expect(fakes.openai.received).toHaveLength(1);
  });
});

describe('requests a provider is known to refuse are refused before the call', () => {
  it.each([
    ['ge-model', [{ role: 'user', content: '' }], 'messages[0].content'],
    ['ge-model', [{ role: 'user', content: [{ type: 'text', text: '' }] }], 'messages[0].content[0].text'],
    [
      'ge-model',
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: '' },
      ],
      'messages[1].content',
    ],
    ['an-model', [{ role: 'user', content: '' }], 'messages[0].content'],
  ])('%s with %j', async (model, messages, param) => {
    const res = await post('/v1/chat/completions', { model, messages, quorum: { fallbacks: [] } });
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body', param });
    expect(upstreamCalls()).toBe(0);
  });
});

it('a streamed request the provider would refuse is a 400 before any byte is streamed', async () => {
  const res = await post('/v1/chat/completions', {
    model: 'ge-model',
    stream: true,
    messages: [{ role: 'user', content: '' }],
  });
  expect(res.status, res.text).toBe(400);
  expect(res.json.error).toMatchObject({ code: 'invalid_body', param: 'messages[0].content' });
  expect(fakes.gemini.received).toHaveLength(0);
});

describe('a fan-out no candidate can answer because the request is invalid for them is a 400', () => {
  const empty = [{ role: 'user', content: '' }];
  it.each([
    [
      'an inline consensus',
      '/v1/chat/completions',
      {
        model: 'ge-model',
        quorum: { ensemble: { strategy: 'consensus', models: ['ge-model', 'an-model'] } },
      },
    ],
    [
      'a streamed inline consensus',
      '/v1/chat/completions',
      {
        model: 'ge-model',
        stream: true,
        quorum: { ensemble: { strategy: 'consensus', models: ['ge-model', 'an-model'] } },
      },
    ],
    [
      'POST /v1/consensus',
      '/v1/consensus',
      { strategy: 'consensus', models: ['ge-model', 'an-model'], quorum: 2 },
    ],
  ])('%s', async (_name, path, body) => {
    const res = await post(path, { ...body, messages: empty });
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_body' });
    expect(upstreamCalls()).toBe(0);
  });
});

describe('upstream error text is passed on without secrets or internals', () => {
  it('an answer the gateway fails to read gives a plain description, not a JavaScript message', async () => {
    fakes.openai.respond({ raw: '{"id":"x","object":"chat.completion","choices":null}' });
    const res = await post('/v1/chat/completions', {
      model: 'oa-model',
      messages: [{ role: 'user', content: 'x' }],
      quorum: { fallbacks: [] },
    });
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('upstream_failed');
    expect(res.json.error.message).toContain('an answer without choices');
    expect(res.text).not.toMatch(/Cannot read|properties of|TypeError|at .*\.ts:\d+/);
  });

  it('an answer without choices is the upstream failing, never an empty answer that looks complete', async () => {
    fakes.openai.respond({ raw: '{}' });
    const res = await post('/v1/chat/completions', {
      model: 'oa-model',
      messages: [{ role: 'user', content: 'x' }],
      quorum: { fallbacks: ['an-model'] },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.model).toBe('an-model');
    expect(res.json.quorum.attempts[0]).toMatchObject({ model: 'oa-model' });
    expect(res.json.quorum.attempts[0].error).toContain('without choices');
  });

  it('an upstream 401 naming a masked key fragment reaches the client without it', async () => {
    fakes.openai.respond({
      error: {
        status: 401,
        message:
          'Incorrect API key provided: sk-upstr*********cret. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      },
    });
    const res = await post('/v1/chat/completions', {
      model: 'oa-model',
      messages: [{ role: 'user', content: 'x' }],
      quorum: { fallbacks: [] },
    });
    expect(res.status).toBe(502);
    expect(res.json.error.message).toContain('Incorrect API key provided');
    expect(res.text).not.toMatch(/sk-upstr|\*\*\*|cret\b/);
    expect(res.json.quorum).toBeUndefined();
  });
});

describe('admin inputs are range-checked before any write', () => {
  it.each([
    ['year 275760', '+275760-09-13T00:00:00.000Z'],
    ['1e20 ms', 1e20],
    ['year 10000', '10000-01-01T00:00:00Z'],
    ['a date in the past', '2001-01-01'],
  ])('expires_at %s → 400, nothing written, the list still renders', async (_what, expires_at) => {
    const before = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(before.status).toBe(200);
    const count = ((await before.json()) as any).data.length;

    const res = await post('/admin/keys', { team: 'alpha', name: 'far', expires_at }, MASTER);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'invalid_body', param: 'expires_at' });

    const after = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as any).data).toHaveLength(count);
  });

  it.each([
    ['limit_usd 1e300', { id: 'rich', budget: { limit_usd: 1e300, period: 'monthly' } }, 'budget.limit_usd'],
    [
      'soft_limit_usd 1e300',
      { id: 'rich', budget: { limit_usd: 10, soft_limit_usd: 1e300 } },
      'budget.soft_limit_usd',
    ],
    ['rpm 1e15', { id: 'fast', limits: { rpm: 1e15 } }, 'limits.rpm'],
    ['tpm 2^60', { id: 'fast', limits: { tpm: 2 ** 60 } }, 'limits.tpm'],
    ['5,000 models', { id: 'many', models: Array.from({ length: 5000 }, (_, i) => `m${i}`) }, 'models'],
    ['a prototype name as a model', { id: 'proto', models: ['oa-model', 'constructor'] }, 'models[1]'],
  ])('team with %s → 400, nothing written', async (_what, team, param) => {
    const res = await post('/admin/teams', team, MASTER);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'invalid_body', param });
    expect(await store.teams.get(team.id)).toBeNull();
  });

  it('a key row holding an expiry it cannot render (written before the check) does not break the list', async () => {
    const made = await post('/admin/keys', { team: 'alpha', name: 'legacy' }, MASTER);
    expect(made.status).toBe(201);
    const db = new DatabaseSync(join(dir, 'q.db'));
    try {
      db.prepare('UPDATE keys SET expires_at = ? WHERE id = ?').run(1e20, made.json.id);
    } finally {
      db.close();
    }
    const list = await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${MASTER}` } });
    expect(list.status).toBe(200);
    const row = ((await list.json()) as any).data.find((k: any) => k.id === made.json.id);
    expect(row).toMatchObject({ name: 'legacy', expires_at: null, status: 'active' });
  });

  it('a team patch out of range → 400, the team unchanged', async () => {
    expect((await post('/admin/teams', { id: 'patched', budget: { limit_usd: 5 } }, MASTER)).status).toBe(
      201,
    );
    const res = await fetch(`${gw.url}/admin/teams/patched`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ budget: { limit_usd: 1e300 }, limits: { rpm: 5 } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({
      code: 'invalid_body',
      param: 'budget.limit_usd',
    });
    expect(await store.teams.get('patched')).toMatchObject({ budget: { limit_usd: 5 } });
    expect((await store.teams.get('patched'))?.limits).toBeUndefined();
  });

  it('a key limit out of range → 400, nothing written', async () => {
    const before = (await store.keys.list('alpha')).length;
    const res = await post('/admin/keys', { team: 'alpha', name: 'n', limits: { rpm: 1e15 } }, MASTER);
    expect(res.status, res.text).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'invalid_body', param: 'limits.rpm' });
    expect(await store.keys.list('alpha')).toHaveLength(before);
  });
});
