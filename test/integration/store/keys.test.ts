import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, type Store } from '../../../src/store/index.ts';
import { type Backend, backends, type Target } from './backends.ts';

describe.each(backends())('keys on $name', ({ make }) => {
  const backend: Backend = make();
  let clock = Date.parse('2026-11-22T10:00:00Z');
  let target: Target;
  let store: Store;

  beforeAll(async () => {
    target = await backend.fresh();
    store = await target.open({ now: () => clock });
    await store.teams.create({ id: 'research' });
    await store.teams.create({ id: 'ops' });
  });
  afterAll(() => backend.cleanup());

  it('shows a new key once and stores only its hash', async () => {
    const created = await store.keys.create({ team: 'research', name: 'ci', limits: { rpm: 10 } });
    expect(created.key).toMatch(/^qk-[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({
      team: 'research',
      name: 'ci',
      prefix: created.key.slice(0, 10),
      created_at: '2026-11-22T10:00:00.000Z',
      expires_at: null,
      revoked_at: null,
      limits: { rpm: 10 },
    });

    const row = await store.db
      .selectFrom('keys')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(hashKey(store.pepper, created.key));
    expect(Object.values(row)).not.toContain(created.key);
    // Nothing readable gives the key back: not the listing, not a byte of the database.
    expect(JSON.stringify(await store.keys.list())).not.toContain(created.key.slice(10));
    await store.ledger.flush();
    expect(await backend.contains(target, created.key.slice(10))).toBe(false);
    expect(await backend.contains(target, row.key_hash)).toBe(true); // the check can see stored values
  });

  it('finds a key by its plaintext, and only the exact key', async () => {
    const { id, key } = await store.keys.create({ team: 'research', name: 'find-me' });
    expect(await store.keys.findByKey(key)).toMatchObject({ id, team: 'research', name: 'find-me' });
    expect(await store.keys.findByKey(key.slice(0, -1))).toBeNull();
    expect(await store.keys.findByKey(`${key}x`)).toBeNull();
    expect(await store.keys.findByKey('')).toBeNull();
    expect(await store.keys.lookup('qk-unknown')).toBeNull();
  });

  it('does not find a revoked key, from the very next lookup', async () => {
    const { id, key } = await store.keys.create({ team: 'research', name: 'revoke-me' });
    expect(await store.keys.findByKey(key)).not.toBeNull();
    expect(await store.keys.revoke(id)).toBe(true);
    expect(await store.keys.findByKey(key)).toBeNull();
    expect(await store.keys.lookup(key)).toMatchObject({ status: 'revoked', key: { id } });
    expect((await store.keys.get(id))?.revoked_at).toBe('2026-11-22T10:00:00.000Z');

    clock += 5000;
    expect(await store.keys.revoke(id)).toBe(true); // idempotent, keeps the first time
    expect((await store.keys.get(id))?.revoked_at).toBe('2026-11-22T10:00:00.000Z');
    expect(await store.keys.revoke('key_nope')).toBe(false);
  });

  it('does not find an expired key (ISO or epoch-ms expiry)', async () => {
    const iso = await store.keys.create({
      team: 'ops',
      name: 'iso',
      expires_at: new Date(clock + 60_000).toISOString(),
    });
    const ms = await store.keys.create({ team: 'ops', name: 'ms', expires_at: clock + 60_000 });
    expect(iso.expires_at).toBe(new Date(clock + 60_000).toISOString());
    expect(ms.expires_at).toBe(iso.expires_at);
    expect(await store.keys.findByKey(iso.key)).not.toBeNull();
    expect(await store.keys.findByKey(ms.key)).not.toBeNull();

    clock += 60_000; // expiry is exclusive: at expires_at the key is dead
    expect(await store.keys.findByKey(iso.key)).toBeNull();
    expect(await store.keys.findByKey(ms.key)).toBeNull();
    expect(await store.keys.lookup(ms.key)).toMatchObject({ status: 'expired' });
  });

  it('refuses keys for unknown teams and bad fields', async () => {
    await expect(store.keys.create({ team: 'ghost', name: 'x' })).rejects.toMatchObject({
      code: 'not_found',
      param: 'team',
    });
    await expect(store.keys.create({ team: 'ops', name: '' })).rejects.toMatchObject({ param: 'name' });
    await expect(
      store.keys.create({ team: 'ops', name: 'x', expires_at: 'next tuesday' }),
    ).rejects.toMatchObject({
      code: 'invalid',
      param: 'expires_at',
    });
    await expect(store.keys.create({ team: 'ops', name: 'x', limits: { tpm: 0 } })).rejects.toMatchObject({
      param: 'limits.tpm',
    });
    // Past the year 10000 an expiry cannot be shown as ISO 8601 (or, on Postgres, stored as bigint).
    for (const expires_at of [1e20, '+275760-09-13T00:00:00.000Z', Date.UTC(10000, 0, 1)]) {
      await expect(store.keys.create({ team: 'ops', name: 'far', expires_at })).rejects.toMatchObject({
        code: 'invalid',
        param: 'expires_at',
      });
    }
    expect((await store.keys.list('ops')).map((k) => k.name)).not.toContain('far');
  });

  it('lists keys without secrets, per team or all, oldest first', async () => {
    const all = await store.keys.list();
    const ops = await store.keys.list('ops');
    expect(ops.map((k) => k.name).sort()).toEqual(['iso', 'ms']);
    expect(all.length).toBeGreaterThan(ops.length);
    for (const key of all) {
      expect(Object.keys(key).sort()).toEqual(
        [
          'created_at',
          'expires_at',
          'id',
          'name',
          'prefix',
          'revoked_at',
          'team',
          ...('limits' in key ? ['limits'] : []),
        ].sort(),
      );
    }
    expect(all.map((k) => k.created_at)).toEqual([...all.map((k) => k.created_at)].sort());
  });

  it('keeps keys valid across reopen (the pepper persists)', async () => {
    const { key, id } = await store.keys.create({ team: 'ops', name: 'durable' });
    const again = await target.open({ now: () => clock });
    expect(again.pepper).toBe(store.pepper);
    expect((await again.keys.findByKey(key))?.id).toBe(id);
  });
});
