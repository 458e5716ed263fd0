/**
 * The store going away: a real Postgres (its own schema) reached through a TCP proxy on 127.0.0.1 that
 * the test closes and reopens. While it is closed, whatever needs the database answers 503
 * `store_unavailable` with `retry-after` (admin, a key made through the admin API, workflows) and
 * /readyz says not ready; once it is back, everything answers again without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { Engine, type StepRunner } from '../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../src/workflows/event-hub.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { POSTGRES_URL, PostgresBackend } from '../store/backends.ts';

const MASTER = 'mk-outage-test-master-key';

const runner: StepRunner = {
  async complete() {
    return { text: 'ok', cost_usd: 0 };
  },
};

describe.skipIf(!POSTGRES_URL)('Postgres unreachable', () => {
  const backend = new PostgresBackend(POSTGRES_URL!);
  let proxy: TcpProxy;
  let store: Store;
  let engine: Engine;
  let gw: TestGateway;
  let teamKey = '';
  let workflowId = '';

  const api = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(gw.url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      json: (await res.json()) as any,
    };
  };
  const ready = async () => (await fetch(`${gw.url}/readyz`)).status;
  /** Polls /readyz until it says `status` (the probe is cached for a second; no time is asserted). */
  const readyBecomes = async (status: number) => {
    for (let i = 0; i < 200 && (await ready()) !== status; i++) await new Promise((r) => setTimeout(r, 100));
    return ready();
  };

  beforeAll(async () => {
    const target = await backend.fresh();
    proxy = await startTcpProxy(POSTGRES_URL!, 5432);
    store = await openStore(proxy.url, { schema: target.options.schema!, poolSize: 2 });
    const hub = new EventHub();
    engine = new Engine({ store, runner, onEvent: hub.publish });
    gw = await startGateway(
      { providers: [{ id: 'demo', type: 'demo' }] },
      { masterKey: MASTER, app: () => ({ store, workflows: { engine, hub } }) },
    );
    expect((await api('POST', '/admin/teams', MASTER, { id: 'ops' })).status).toBe(201);
    const key = await api('POST', '/admin/keys', MASTER, { team: 'ops', name: 'ops-ci' });
    expect(key.status).toBe(201);
    teamKey = key.json.key;
    const wf = await api('POST', '/v1/workflows', teamKey, {
      name: 'one-step',
      steps: { a: { prompt: 'hi', model: 'demo-fast' } },
    });
    expect(wf.status).toBe(201);
    workflowId = wf.json.id;
  });
  afterAll(async () => {
    await gw?.close();
    await proxy?.close();
    await store?.close().catch(() => {});
    await backend.cleanup();
  });

  const calls = () =>
    [
      ['GET /admin/teams', () => api('GET', '/admin/teams', MASTER)],
      ['GET /admin/alerts', () => api('GET', '/admin/alerts', MASTER)],
      ['GET /admin/audit', () => api('GET', '/admin/audit', MASTER)],
      ['POST /admin/keys', () => api('POST', '/admin/keys', MASTER, { team: 'ops', name: 'another' })],
      ['GET /v1/models with an admin-made key', () => api('GET', '/v1/models', teamKey)],
      ['GET /v1/workflows', () => api('GET', '/v1/workflows', MASTER)],
      [
        'POST /v1/workflows',
        () => api('POST', '/v1/workflows', MASTER, { name: 'other', steps: { a: { prompt: 'x' } } }),
      ],
      [
        'POST /v1/workflows/:id/runs',
        () => api('POST', `/v1/workflows/${workflowId}/runs?wait=true`, MASTER, { inputs: {} }),
      ],
    ] as const;

  it('answers 503 store_unavailable with retry-after, and /readyz is not ready, while it is down', async () => {
    expect(await ready()).toBe(200);
    await proxy.down();
    for (const [label, call] of calls()) {
      const res = await call();
      expect(res.status, label).toBe(503);
      expect(res.json.error, label).toMatchObject({ type: 'service_unavailable', code: 'store_unavailable' });
      expect(Number(res.retryAfter), label).toBeGreaterThan(0);
    }
    expect(await readyBecomes(503)).toBe(503);
    const readyz = await fetch(`${gw.url}/readyz`);
    expect(((await readyz.json()) as any).error.code).toBe('store_unavailable');
    // Requests that need no database still work.
    expect((await api('GET', '/v1/models', MASTER)).status).toBe(200);
  });

  it('recovers on its own once the database is reachable again', async () => {
    await proxy.up();
    expect(await readyBecomes(200)).toBe(200);
    for (const [label, call] of calls()) {
      const res = await call();
      expect(res.status, label).toBeLessThan(300);
    }
  });
});
