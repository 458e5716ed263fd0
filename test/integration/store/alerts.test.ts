/**
 * The alerts outbox and the audit log on each engine: an alert is recorded once per dedupe key, a due
 * delivery is handed to one claimer only (two stores on one database claiming at once, as two gateway
 * instances do), leases lapse, and a try ends as delivered, retried later or failed; audit entries
 * page newest first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertsTable, Store } from '../../../src/store/index.ts';
import { type Backend, backends, type Target } from './backends.ts';

const T0 = Date.parse('2026-11-23T09:00:00Z');

function alert(key: string, at = T0): AlertsTable {
  return {
    id: `alt_${key}`,
    dedupe_key: `team:research|monthly|2026-11|${key}`,
    kind: 'threshold',
    scope: 'team',
    scope_id: 'research',
    team_id: 'research',
    budget_window: 'monthly',
    period: '2026-11',
    threshold: 50,
    limit_usd: 10,
    soft_limit_usd: null,
    spent_usd: 5.5,
    body: JSON.stringify({ id: `alt_${key}` }),
    created_at: at,
  };
}

describe.each(backends())('alerts outbox and audit log on $name', ({ make }) => {
  let backend: Backend;
  let target: Target;
  let clock = T0;
  let store: Store;

  beforeAll(async () => {
    backend = make();
    target = await backend.fresh();
    store = await target.open({ now: () => clock });
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it('records an alert once per dedupe key, with a pending delivery per webhook', async () => {
    expect(await store.alerts.record(alert('once'), ['ops', 'pager'])).toBe(true);
    // The same crossing again (a restart, another instance): nothing is written.
    expect(await store.alerts.record({ ...alert('once'), id: 'alt_other' }, ['ops', 'pager'])).toBe(false);
    const stored = await store.alerts.get('alt_once');
    expect(stored?.deliveries.map((d) => [d.webhook, d.status, d.attempts])).toEqual([
      ['ops', 'pending', 0],
      ['pager', 'pending', 0],
    ]);
    expect(await store.alerts.get('alt_other')).toBeNull();
  });

  it('hands each due delivery to one of two instances claiming at once', async () => {
    const other = await target.open({ now: () => clock });
    for (let i = 0; i < 40; i++) await store.alerts.record(alert(`race-${i}`), ['race']);
    const [a, b] = await Promise.all([
      store.alerts.claim('inst-a', ['race'], 100, 60_000),
      other.alerts.claim('inst-b', ['race'], 100, 60_000),
    ]);
    const ids = [...a, ...b].map((d) => d.alertId);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    expect([...a, ...b].every((d) => d.attempt === 1 && d.body.includes(d.alertId))).toBe(true);
    // Claimed ones are leased: nobody gets them again until the lease lapses.
    expect(await store.alerts.claim('inst-c', ['race'], 100, 60_000)).toEqual([]);
  });

  it('takes over a lapsed lease, and ignores the settle of the instance that lost it', async () => {
    await store.alerts.record(alert('lease'), ['lease']);
    const [first] = await store.alerts.claim('inst-a', ['lease'], 10, 1_000);
    clock += 1_001;
    const [second] = await store.alerts.claim('inst-b', ['lease'], 10, 1_000);
    expect(second).toMatchObject({ alertId: 'alt_lease', attempt: 2 });
    await store.alerts.settle('inst-a', first!, { kind: 'delivered', httpStatus: 200 });
    expect((await store.alerts.get('alt_lease'))?.deliveries[0]?.status).toBe('pending');
    await store.alerts.settle('inst-b', second!, { kind: 'delivered', httpStatus: 204 });
    expect((await store.alerts.get('alt_lease'))?.deliveries[0]).toMatchObject({
      status: 'delivered',
      last_http_status: 204,
      delivered_at: clock,
      lease_owner: null,
    });
    clock += 10_000;
    expect(await store.alerts.claim('inst-c', ['lease'], 10, 1_000)).toEqual([]);
  });

  it('retries a failed try when it is due, and stops after the last one', async () => {
    await store.alerts.record(alert('retry'), ['retry']);
    const [try1] = await store.alerts.claim('inst', ['retry'], 10, 60_000);
    await store.alerts.settle('inst', try1!, {
      kind: 'failed',
      httpStatus: 503,
      error: 'HTTP 503',
      retryAt: clock + 5_000,
    });
    expect(await store.alerts.claim('inst', ['retry'], 10, 60_000)).toEqual([]);
    clock += 5_000;
    const [try2] = await store.alerts.claim('inst', ['retry'], 10, 60_000);
    expect(try2?.attempt).toBe(2);
    await store.alerts.settle('inst', try2!, {
      kind: 'failed',
      httpStatus: null,
      error: 'ECONNREFUSED',
      retryAt: null,
    });
    expect((await store.alerts.get('alt_retry'))?.deliveries[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      last_http_status: null,
      last_error: 'ECONNREFUSED',
    });
    clock += 86_400_000;
    expect(await store.alerts.claim('inst', ['retry'], 10, 60_000)).toEqual([]);
  });

  it('gives back a try it never sent (shutdown): not counted, due at once', async () => {
    await store.alerts.record(alert('release'), ['release']);
    const [claimed] = await store.alerts.claim('inst', ['release'], 10, 60_000);
    await store.alerts.settle('inst', claimed!, { kind: 'released' });
    const [again] = await store.alerts.claim('inst', ['release'], 10, 60_000);
    expect(again?.attempt).toBe(1);
  });

  it('claims only for the webhooks it knows (another instance may know others)', async () => {
    await store.alerts.record(alert('unknown'), ['elsewhere']);
    expect(await store.alerts.claim('inst', ['here'], 10, 60_000)).toEqual([]);
    expect(await store.alerts.claim('inst', [], 10, 60_000)).toEqual([]);
  });

  it('lists alerts newest first, a page at a time, by team', async () => {
    const fresh = await (await backend.fresh()).open();
    for (let i = 0; i < 5; i++) await fresh.alerts.record(alert(`page-${i}`, T0 + i), []);
    await fresh.alerts.record({ ...alert('design', T0 + 9), id: 'alt_design', team_id: 'design' }, []);
    const first = await fresh.alerts.list({ limit: 3, team: 'research' });
    expect(first.map((a) => a.id)).toEqual(['alt_page-4', 'alt_page-3', 'alt_page-2']);
    const last = first.at(-1)!;
    const next = await fresh.alerts.list({ limit: 3, team: 'research', before: last });
    expect(next.map((a) => a.id)).toEqual(['alt_page-1', 'alt_page-0']);
    expect((await fresh.alerts.list({ limit: 10 })).map((a) => a.id)[0]).toBe('alt_design');
  });

  it('keeps audit entries newest first, paged, filtered by action and target', async () => {
    const fresh = await (await backend.fresh()).open({ now: () => clock });
    for (const [action, target] of [
      ['team.create', 'team:a'],
      ['key.create', 'key:k1'],
      ['team.update', 'team:a'],
      ['key.revoke', 'key:k1'],
    ] as const) {
      clock += 1;
      await fresh.audit.append({
        actor: 'master_key',
        action,
        target,
        details: '{"n":1}',
        requestId: 'req_1',
      });
    }
    const page = await fresh.audit.list({ limit: 3 });
    expect(page.map((r) => r.action)).toEqual(['key.revoke', 'team.update', 'key.create']);
    const rest = await fresh.audit.list({ limit: 3, before: page.at(-1)! });
    expect(rest.map((r) => r.action)).toEqual(['team.create']);
    expect((await fresh.audit.list({ limit: 10, target: 'team:a' })).map((r) => r.action)).toEqual([
      'team.update',
      'team.create',
    ]);
    expect((await fresh.audit.list({ limit: 10, action: 'key.create' }))[0]).toMatchObject({
      actor: 'master_key',
      target: 'key:k1',
      request_id: 'req_1',
    });
  });
});
