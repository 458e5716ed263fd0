/**
 * Overrides across instances sharing Redis and Postgres: an override made on one instance is honoured
 * by admission on the other (which reads the live overrides from the shared store), and ends on both.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLimitBackends, type LimitBackends } from '../../src/limits/backends.ts';
import type { Store } from '../../src/store/index.ts';
import type { FakeServer } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { deleteKeys, uniquePrefix } from './limits/redis-env.ts';
import { type Backend, backends } from './store/backends.ts';

const REDIS = process.env.QUORUM_TEST_REDIS_URL;
const POSTGRES = process.env.QUORUM_TEST_POSTGRES_URL;
const MASTER = 'mk-overrides-instances';
const KEY = 'qk-overrides-inst-01';

describe.runIf(REDIS && POSTGRES)('budget overrides on two instances', () => {
  let fake: FakeServer;
  let pg: Backend;
  const prefix = uniquePrefix();
  const instances: { gw: TestGateway; store: Store; limits: LimitBackends }[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.respond({ text: 'ok', usage: { input: 5, output: 60 } });
    pg = backends()
      .find((b) => b.name === 'postgres')!
      .make();
    const target = await pg.fresh();
    const config = {
      providers: [{ id: 'up', type: 'openai', base_url: `${fake.url}/v1`, api_key: 'k', max_retries: 0 }],
      models: [
        {
          id: 'priced',
          provider: 'up',
          context_window: 100_000,
          max_output_tokens: 4_000,
          price: { input: 10, output: 40 },
        },
      ],
      teams: [{ id: 'acme', end_users: { budget: { limit_usd: 0.006, period: 'daily' } } }],
      keys: [{ key: KEY, team: 'acme', name: 'main' }],
    };
    for (let i = 0; i < 2; i++) {
      const store = await target.open();
      const limits = createLimitBackends({ redisUrl: REDIS!, prefix, failMode: 'closed' });
      const gw = await startGateway(config, { store, masterKey: MASTER, gateway: { limits } });
      instances.push({ gw, store, limits });
    }
  }, 60_000);

  afterAll(async () => {
    for (const i of instances) await i.gw.close();
    for (const i of instances) await i.store.close();
    await pg?.cleanup();
    await fake?.close();
    await deleteKeys(REDIS!, prefix);
  });

  const chat = async (i: number) => {
    const res = await fetch(`${instances[i]!.gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: 'priced',
        max_tokens: 100,
        user: 'zoe',
        messages: [{ role: 'user', content: 'count the stars' }],
      }),
    });
    return { status: res.status, scope: res.headers.get('x-quorum-budget-scope') };
  };
  const admin = async (i: number, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${instances[i]!.gw.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('an override made on one instance is honoured on the other, and ends on both', async () => {
    expect((await chat(0)).status).toBe(200);
    expect(await chat(1)).toEqual({ status: 429, scope: 'user' });
    const made = await admin(0, 'POST', '/admin/overrides', {
      scope: 'user',
      team: 'acme',
      id: 'zoe',
      limit_usd: 0.05,
      expires_at: Date.now() + 3_600_000,
      reason: 'support ticket 42',
    });
    expect(made.status).toBe(201);
    expect((await chat(0)).status).toBe(200); // at once where it was made
    await vi.waitFor(async () => expect((await chat(1)).status).toBe(200), {
      timeout: 10_000,
      interval: 250,
    });
    expect((await admin(1, 'DELETE', `/admin/overrides/${made.json.id}`)).status).toBe(200);
    expect(await chat(1)).toEqual({ status: 429, scope: 'user' });
    await vi.waitFor(async () => expect(await chat(0)).toEqual({ status: 429, scope: 'user' }), {
      timeout: 10_000,
      interval: 250,
    });
  }, 60_000);
});
