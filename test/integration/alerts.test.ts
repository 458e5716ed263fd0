/**
 * Budget alerts end to end: real gateways, a fake upstream, a webhook receiver on 127.0.0.1 that
 * refuses the first two tries of every alert. Each threshold of a period reaches the receiver exactly
 * once across a restart (a real SQLite file, the gateway closed and booted again) and across two
 * instances sharing Postgres (and Redis), and every body verifies with the documented recipe.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLimitBackends } from '../../src/limits/backends.ts';
import { openStore } from '../../src/store/index.ts';
import type { FakeServer } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { type ReceivedCall, type Receiver, startReceiver } from './helpers/webhook-receiver.ts';
import { deleteKeys, uniquePrefix } from './limits/redis-env.ts';
import { backends } from './store/backends.ts';

const KEY = 'qk-alerts-team-key-0001';
const MASTER = 'mk-alerts-master-key-0001';
const SECRET = 'whsec-alerts-test-0123456789';
/** Each answer: 5 prompt + 100 completion tokens at $10/$40 per 1M = $0.00405. */
const COST = 0.00405;

let fake: FakeServer;
let receiver: Receiver;
const dirs: string[] = [];

function config(budget: Record<string, unknown>, alerts: Record<string, unknown> = {}) {
  return {
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
    teams: [{ id: 'research', budget: { period: 'monthly', ...budget } }],
    keys: [{ key: KEY, team: 'research', name: 'ci' }],
    alerts: { webhooks: [{ url: receiver.url, secret: SECRET, name: 'ops' }], backoff_ms: 10, ...alerts },
  };
}

async function call(gw: TestGateway): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: 'priced', max_tokens: 100, messages: [{ role: 'user', content: 'go' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function listAlerts(gw: TestGateway) {
  const res = await fetch(`${gw.url}/admin/alerts`, { headers: { authorization: `Bearer ${MASTER}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).data as any[];
}

/** GET /metrics as `series → value`. */
async function metricsOf(gw: TestGateway): Promise<Record<string, number>> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(quorum_alert\S+) (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The docs' receiver recipe, written out independently of src/alerts. */
function verifiedByRecipe(secret: string, header: string | undefined, body: string, nowS: number): boolean {
  const fields = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(fields.t);
  if (!fields.v1 || !Number.isInteger(t) || Math.abs(nowS - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(fields.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What the receiver accepted, by threshold (or `soft`): each must appear once. */
function acceptedByThreshold(calls: ReceivedCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const body = JSON.parse(c.body);
    const name = body.type === 'budget.soft_limit' ? 'soft' : String(body.threshold_percent);
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

function sqliteEnv() {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-alerts-'));
  dirs.push(dir);
  return { QUORUM_DATABASE_URL: `sqlite:${join(dir, 'quorum.db')}` };
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  fake.reset();
  fake.respond({ text: 'ok', usage: { input: 5, output: 100 } });
  receiver = await startReceiver({ failFirst: 2 });
});
afterEach(async () => {
  await receiver.close();
});

describe('budget alerts', () => {
  it('fire once per threshold and period across a restart; a receiver that fails twice gets each once', async () => {
    const env = sqliteEnv();
    // No background poll during the test: each round is started by a crossing, a start, or poll().
    const cfg = config({ limit_usd: 0.02, alerts: [50, 80] }, { poll_ms: 3_600_000 });
    const boot = () => startGateway(cfg, { env, store: 'open', masterKey: MASTER });

    let gw = await boot();
    for (let i = 0; i < 3; i++) expect(await call(gw)).toBe(200); // 60.75% spent: 50% crossed
    // The crossing is recorded and tried at once; the receiver refuses that first try.
    await vi.waitFor(() => expect(receiver.calls).toHaveLength(1));
    await gw.close();

    // Restarted: spend comes back from the ledger and the 50% crossing is seen again, but it was
    // recorded before; its delivery is still pending and goes on from the second try.
    gw = await boot();
    await vi.waitFor(async () => {
      await gw.booted.alerts.poll();
      expect(receiver.accepted()).toHaveLength(1);
    });
    expect(await call(gw)).toBe(200); // 81%: 80% crossed
    await vi.waitFor(async () => {
      await gw.booted.alerts.poll();
      expect(receiver.accepted()).toHaveLength(2);
    });
    await gw.close();

    // Once more: nothing new is recorded or sent.
    gw = await boot();
    await gw.booted.alerts.poll();
    const alerts = await listAlerts(gw);
    await gw.close();

    expect(acceptedByThreshold(receiver.accepted())).toEqual({ '50': 1, '80': 1 });
    expect(receiver.calls).toHaveLength(6); // two refused tries and one accepted, per alert
    expect(alerts.map((a) => [a.threshold_percent, a.period.length, a.deliveries])).toEqual([
      [
        80,
        7,
        [
          expect.objectContaining({
            webhook: 'ops',
            status: 'delivered',
            attempts: 3,
            last_http_status: 200,
          }),
        ],
      ],
      [
        50,
        7,
        [
          expect.objectContaining({
            webhook: 'ops',
            status: 'delivered',
            attempts: 3,
            last_http_status: 200,
          }),
        ],
      ],
    ]);
    const fifty = JSON.parse(receiver.accepted()[0]!.body);
    expect(fifty).toMatchObject({
      object: 'alert',
      type: 'budget.threshold',
      scope: 'team',
      scope_id: 'research',
      team: 'research',
      window: 'monthly',
      threshold_percent: 50,
      limit_usd: 0.02,
      id: alerts[1].id,
    });
    expect(fifty.spent_usd).toBeCloseTo(3 * COST, 9);
    // Every try carries the same body (one id to deduplicate by) and a signature the recipe verifies.
    const now = Math.floor(Date.now() / 1000);
    for (const c of receiver.calls) {
      expect(verifiedByRecipe(SECRET, c.signature, c.body, now)).toBe(true);
      expect(verifiedByRecipe('another-secret-0123456789', c.signature, c.body, now)).toBe(false);
      expect(JSON.parse(c.body).id).toBe(c.alertId);
    }
    expect(new Set(receiver.calls.filter((c) => c.alertId === fifty.id).map((c) => c.body)).size).toBe(1);
  });

  it('records at start-up a crossing whose spend was written but whose alert was not (a crash)', async () => {
    const env = sqliteEnv();
    // The ledger holds 75% of the budget; no alert was recorded before the process died.
    const before = await openStore(env.QUORUM_DATABASE_URL);
    before.ledger.append({
      request_id: 'req_before_crash',
      team_id: 'research',
      model: 'priced',
      provider: 'up',
      input_tokens: 5,
      output_tokens: 100,
      cost_nanos: 15_000_000,
      latency_ms: 10,
      status: 200,
    });
    await before.close();
    const gw = await startGateway(config({ limit_usd: 0.02, alerts: [50, 80] }), {
      env,
      store: 'open',
      masterKey: MASTER,
    });
    try {
      // No request is made: the start-up check finds 75% and records the 50% alert alone.
      await vi.waitFor(async () => {
        await gw.booted.alerts.poll();
        expect(receiver.accepted()).toHaveLength(1);
      });
      expect(JSON.parse(receiver.accepted()[0]!.body)).toMatchObject({
        threshold_percent: 50,
        spent_usd: 0.015,
      });
      expect((await listAlerts(gw)).map((a) => a.threshold_percent)).toEqual([50]);
    } finally {
      await gw.close();
    }
  });

  it('logs and counts each alert once, and says when a try fails', async () => {
    const env = sqliteEnv();
    const gw = await startGateway(config({ limit_usd: 0.02, alerts: [50], soft_limit_usd: 0.004 }), {
      env,
      store: 'open',
      masterKey: MASTER,
    });
    try {
      const before = await metricsOf(gw);
      for (let i = 0; i < 3; i++) expect(await call(gw)).toBe(200);
      await vi.waitFor(async () => {
        await gw.booted.alerts.poll();
        expect(receiver.accepted()).toHaveLength(2);
      });
      const logs = gw.logs();
      expect(logs.match(/budget alert: Team research reached 50% of its budget/g)).toHaveLength(1);
      expect(logs.match(/budget alert: Team research passed its soft limit of \$0\.00400/g)).toHaveLength(1);
      expect(logs).toMatch(/alert delivery failed; will retry/);
      expect(logs).not.toContain(receiver.url); // the URL may hold a token
      expect(logs).not.toContain(SECRET);
      // Metrics are per process (earlier tests counted too): what this test added.
      const after = await metricsOf(gw);
      const added = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
      expect(added('quorum_alerts_total{team="research",scope="team",kind="threshold"}')).toBe(1);
      expect(added('quorum_alerts_total{team="research",scope="team",kind="soft_limit"}')).toBe(1);
      expect(added('quorum_alert_deliveries_total{webhook="ops",outcome="delivered"}')).toBe(2);
      expect(added('quorum_alert_deliveries_total{webhook="ops",outcome="retrying"}')).toBe(4);
    } finally {
      await gw.close();
    }
  });

  it('marks a delivery failed after max_attempts, and keeps the alert listed', async () => {
    await receiver.close();
    receiver = await startReceiver({ failFirst: 99 });
    const gw = await startGateway(config({ limit_usd: 0.02, alerts: [10] }, { max_attempts: 2 }), {
      env: sqliteEnv(),
      store: 'open',
      masterKey: MASTER,
    });
    try {
      expect(await call(gw)).toBe(200);
      await vi.waitFor(async () => {
        await gw.booted.alerts.poll();
        expect((await listAlerts(gw))[0]?.deliveries[0]?.status).toBe('failed');
      });
      const [alert] = await listAlerts(gw);
      expect(alert.deliveries[0]).toMatchObject({
        attempts: 2,
        last_http_status: 500,
        last_error: 'HTTP 500',
        next_attempt_at: null,
      });
      expect(receiver.calls).toHaveLength(2);
      expect(gw.logs()).toMatch(/alert delivery failed 2 times; giving up/);
    } finally {
      await gw.close();
    }
  });

  it('records alerts without any webhook, and the test endpoint says there is none', async () => {
    const cfg = config({ limit_usd: 0.02, alerts: [10] });
    const gw = await startGateway(
      { ...cfg, alerts: {} },
      { env: sqliteEnv(), store: 'open', masterKey: MASTER },
    );
    try {
      expect(await call(gw)).toBe(200);
      const [alert] = await listAlerts(gw);
      expect(alert).toMatchObject({ threshold_percent: 10, deliveries: [] });
      const res = await fetch(`${gw.url}/admin/alerts/test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}` },
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as any).error.message).toContain('alerts.webhooks');
    } finally {
      await gw.close();
    }
  });

  it('POST /admin/alerts/test sends one signed sample to each webhook and reports its answer', async () => {
    await receiver.close();
    receiver = await startReceiver();
    const gw = await startGateway(config({ limit_usd: 1 }), {
      env: sqliteEnv(),
      store: 'open',
      masterKey: MASTER,
    });
    try {
      const res = await fetch(`${gw.url}/admin/alerts/test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ webhook: 'ops' }),
      });
      expect(res.status).toBe(200);
      const json = (await res.json()) as any;
      expect(json).toMatchObject({
        object: 'alert.test',
        deliveries: [{ webhook: 'ops', delivered: true, http_status: 200, error: null }],
      });
      expect(receiver.calls).toHaveLength(1);
      const [c] = receiver.calls;
      expect(JSON.parse(c!.body)).toMatchObject({ id: json.id, type: 'test' });
      expect(verifiedByRecipe(SECRET, c!.signature, c!.body, Math.floor(Date.now() / 1000))).toBe(true);
      // Not an alert: nothing is recorded or retried.
      expect(await listAlerts(gw)).toEqual([]);

      const unknown = await fetch(`${gw.url}/admin/alerts/test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ webhook: 'nope' }),
      });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as any).error.param).toBe('webhook');
      const teamKey = await fetch(`${gw.url}/admin/alerts/test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(teamKey.status).toBe(403);
      expect(receiver.calls).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });

  it('a receiver that is down never holds up a request', async () => {
    await receiver.close(); // nothing listens there now: every try is refused
    const gw = await startGateway(config({ limit_usd: 0.02, alerts: [10, 20, 30, 40] }), {
      env: sqliteEnv(),
      store: 'open',
      masterKey: MASTER,
    });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await call(gw));
      expect(statuses).toEqual([200, 200, 200, 200]);
      await vi.waitFor(async () => {
        await gw.booted.alerts.poll();
        const alerts = await listAlerts(gw);
        expect(alerts.map((a) => a.deliveries[0].last_error)).toEqual(Array(4).fill('ECONNREFUSED'));
      });
    } finally {
      await gw.close();
      receiver = await startReceiver();
    }
  });
  it('a receiver that never answers is given up on after timeout_ms, and the request is not held', async () => {
    const silent = createServer(() => {}); // accepts, reads, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
    const cfg = config({ limit_usd: 0.02, alerts: [10] }, { timeout_ms: 100 });
    cfg.alerts.webhooks = [{ url, secret: SECRET, name: 'ops' }];
    const gw = await startGateway(cfg, { env: sqliteEnv(), store: 'open', masterKey: MASTER });
    try {
      expect(await call(gw)).toBe(200);
      expect(await call(gw)).toBe(200);
      await vi.waitFor(async () => {
        const [alert] = await listAlerts(gw);
        expect(alert?.deliveries[0]?.last_error).toBe('timeout after 100 ms');
      });
    } finally {
      await gw.close();
      silent.closeAllConnections();
      silent.close();
    }
  });
});

describe.runIf(process.env.QUORUM_TEST_POSTGRES_URL && process.env.QUORUM_TEST_REDIS_URL)(
  'budget alerts on two instances sharing Postgres and Redis',
  () => {
    it('each crossing is recorded once and delivered once, whichever instance sees it', async () => {
      const pg = backends()
        .find((b) => b.name === 'postgres')!
        .make();
      const target = await pg.fresh();
      const prefix = uniquePrefix();
      // Both loops poll every 20 ms and race for the same due tries.
      const cfg = config({ limit_usd: 0.04, alerts: [50, 80], soft_limit_usd: 0.01 }, { poll_ms: 20 });
      const instance = async () => {
        const store = await target.open();
        const limits = createLimitBackends({
          redisUrl: process.env.QUORUM_TEST_REDIS_URL!,
          prefix,
          failMode: 'closed',
        });
        return startGateway(cfg, { store, gateway: { limits }, masterKey: MASTER });
      };
      const [a, b] = [await instance(), await instance()];
      try {
        // 8 requests at once, 4 on each: 81% of the budget in all, seen by both instances.
        const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => call(i % 2 ? a : b)));
        expect(statuses).toEqual(Array(8).fill(200));
        await vi.waitFor(
          async () => {
            const alerts = await listAlerts(a);
            expect(alerts).toHaveLength(3);
            expect(alerts.every((x) => x.deliveries[0]?.status === 'delivered')).toBe(true);
          },
          { timeout: 15_000 },
        );
        expect(acceptedByThreshold(receiver.accepted())).toEqual({ soft: 1, '50': 1, '80': 1 });
        expect(receiver.calls).toHaveLength(9);
        const fromB = await listAlerts(b);
        expect(fromB.map((x) => x.deliveries[0].attempts)).toEqual([3, 3, 3]);
        const said = (a.logs() + b.logs()).match(/budget alert: /g) ?? [];
        expect(said).toHaveLength(3);
      } finally {
        await a.close();
        await b.close();
        await pg.cleanup();
        await deleteKeys(process.env.QUORUM_TEST_REDIS_URL!, prefix);
      }
    });
  },
);
