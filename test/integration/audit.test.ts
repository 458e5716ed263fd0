/**
 * The audit log of admin actions on a real gateway with a SQLite file: every change through the admin
 * API is recorded (who, what, when, on what, the change), read back newest first a page at a time,
 * kept across a restart, and holds no secret — not the keys the API made, not the master key, not a
 * static key or a webhook secret — neither in the API's answer nor anywhere in the database file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeServer } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const MASTER = 'mk-audit-master-key-0001';
const STATIC_KEY = 'sk-audit-static-key-0001';
const WEBHOOK_SECRET = 'whsec-audit-0123456789abcdef';

const dir = mkdtempSync(join(tmpdir(), 'quorum-audit-'));
const dbPath = join(dir, 'quorum.db');
let fake: FakeServer;
let gw: TestGateway;

function boot() {
  return startGateway(
    {
      providers: [
        { id: 'up', type: 'openai', base_url: `${fake.url}/v1`, api_key: 'sk-upstream-audit-secret' },
      ],
      models: [
        {
          id: 'm',
          provider: 'up',
          context_window: 10_000,
          max_output_tokens: 100,
          price: { input: 1, output: 1 },
        },
      ],
      teams: [{ id: 'static-team' }],
      keys: [{ key: STATIC_KEY, team: 'static-team', name: 'ci' }],
      // Nothing listens there: the test endpoint's try fails, which is recorded too.
      alerts: { webhooks: [{ url: 'http://127.0.0.1:9/hook', secret: WEBHOOK_SECRET, name: 'ops' }] },
    },
    { env: { QUORUM_DATABASE_URL: `sqlite:${dbPath}` }, store: 'open', masterKey: MASTER },
  );
}

async function admin(method: string, path: string, body?: unknown, key = MASTER) {
  const res = await fetch(gw.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    json: (await res.json()) as any,
    requestId: res.headers.get('x-quorum-request-id'),
  };
}

const secrets: string[] = [MASTER, STATIC_KEY, WEBHOOK_SECRET, 'sk-upstream-audit-secret'];
const requestIds: Record<string, string | null> = {};

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await boot();
  const steps: [string, string, string, unknown?][] = [
    ['team.create', 'POST', '/admin/teams', { id: 'design', budget: { limit_usd: 10, alerts: [50, 90] } }],
    ['team.update', 'PATCH', '/admin/teams/design', { budget: { limit_usd: 20 }, limits: { rpm: 60 } }],
  ];
  for (const [action, method, path, body] of steps) {
    const r = await admin(method, path, body);
    expect(r.status).toBeLessThan(300);
    requestIds[action] = r.requestId;
  }
  for (const name of ['figma-bot', 'laptop']) {
    const created = await admin('POST', '/admin/keys', { team: 'design', name, limits: { rpm: 5 } });
    expect(created.status).toBe(201);
    secrets.push(created.json.key);
    const revoked = await admin('DELETE', `/admin/keys/${created.json.id}`);
    expect(revoked.status).toBe(200);
  }
  expect((await admin('POST', '/admin/alerts/test', {})).status).toBe(200);
  expect((await admin('DELETE', '/admin/teams/design')).status).toBe(200);
  // Refused changes change nothing and are not recorded.
  expect((await admin('POST', '/admin/teams', { id: 'static-team' })).status).toBe(409);
  expect((await admin('DELETE', '/admin/keys/key_nope')).status).toBe(404);
});
afterAll(async () => {
  await gw.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the audit log', () => {
  it('records each change: who, what, when, on what, and the change itself', async () => {
    const { status, json } = await admin('GET', '/admin/audit');
    expect(status).toBe(200);
    const entries = [...json.data].reverse();
    expect(entries.map((e: any) => e.action)).toEqual([
      'team.create',
      'team.update',
      'key.create',
      'key.revoke',
      'key.create',
      'key.revoke',
      'alerts.test',
      'team.delete',
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({ object: 'audit_entry', actor: 'master_key' });
      expect(Date.parse(e.created_at)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(entries[0]).toMatchObject({
      target: 'team:design',
      request_id: requestIds['team.create'],
      details: { budget: { limit_usd: 10, period: 'monthly', alerts: [50, 90] }, limits: null, models: null },
    });
    expect(entries[1].details).toEqual({
      patch: { budget: { limit_usd: 20 }, limits: { rpm: 60 } },
      before: { budget: { limit_usd: 10, period: 'monthly', alerts: [50, 90] }, limits: null, models: null },
    });
    expect(entries[2]).toMatchObject({
      target: expect.stringMatching(/^key:key_/),
      details: { team: 'design', name: 'figma-bot', expires_at: null, limits: { rpm: 5 } },
    });
    expect(entries[3].target).toBe(entries[2].target);
    expect(entries[6]).toMatchObject({ target: null, details: { delivered: [], failed: ['ops'] } });
    expect(entries[7]).toMatchObject({ target: 'team:design', details: null });
  });

  it('never holds a secret: not in the API answer, not anywhere in the database file', async () => {
    const all = JSON.stringify((await admin('GET', '/admin/audit?limit=200')).json);
    const rows = JSON.stringify(await gw.booted.store!.db.selectFrom('audit_log').selectAll().execute());
    for (const secret of secrets) {
      expect(all).not.toContain(secret);
      expect(rows).not.toContain(secret);
    }
    // The made keys' hashes and shown prefixes are in the keys table, not in the audit log either.
    for (const secret of secrets.filter((s) => s.startsWith('qk-'))) {
      expect(rows).not.toContain(secret.slice(0, 10));
    }
    // And the file itself (WAL included) holds no made key: only their hashes are stored anywhere.
    const bytes = Buffer.concat(
      [dbPath, `${dbPath}-wal`].map((f) => {
        try {
          return readFileSync(f);
        } catch {
          return Buffer.alloc(0);
        }
      }),
    );
    for (const secret of secrets.filter((s) => s.startsWith('qk-')))
      expect(bytes.includes(secret)).toBe(false);
  });

  it('pages newest first with limit and cursor, and filters by action and target', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await admin('GET', `/admin/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.json.data.length).toBeLessThanOrEqual(3);
      seen.push(...r.json.data.map((e: any) => e.id));
      expect(r.json.has_more).toBe(r.json.next_cursor !== null);
      cursor = r.json.next_cursor;
    } while (cursor);
    const whole = (await admin('GET', '/admin/audit')).json.data.map((e: any) => e.id);
    expect(seen).toEqual(whole);
    expect(new Set(seen).size).toBe(8);

    const revokes = (await admin('GET', '/admin/audit?action=key.revoke')).json.data;
    expect(revokes).toHaveLength(2);
    const design = (await admin('GET', '/admin/audit?target=team:design')).json.data;
    expect(design.map((e: any) => e.action)).toEqual(['team.delete', 'team.update', 'team.create']);
  });

  it('answers 400 to a bad limit or cursor, 403 to a team key, 401 without a key', async () => {
    for (const q of ['limit=0', 'limit=201', 'limit=x', 'cursor=nope', 'colour=blue']) {
      const r = await admin('GET', `/admin/audit?${q}`);
      expect(r.status).toBe(400);
      expect(r.json.error.type).toBe('invalid_request_error');
    }
    expect((await admin('GET', '/admin/audit', undefined, STATIC_KEY)).status).toBe(403);
    expect((await fetch(`${gw.url}/admin/audit`)).status).toBe(401);
  });

  it('survives a restart', async () => {
    const before = (await admin('GET', '/admin/audit')).json.data;
    await gw.close();
    gw = await boot();
    expect((await admin('GET', '/admin/audit')).json.data).toEqual(before);
  });
});
