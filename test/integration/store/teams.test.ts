import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Store, StoreError } from '../../../src/store/index.ts';
import { type Backend, backends } from './backends.ts';

describe.each(backends())('teams on $name', ({ make }) => {
  const backend: Backend = make();
  let clock = Date.parse('2026-11-22T10:00:00Z');
  let store: Store;

  beforeAll(async () => {
    store = await (await backend.fresh()).open({ now: () => clock });
  });
  afterAll(() => backend.cleanup());

  it('round-trips the contract shape', async () => {
    const input = {
      id: 'research',
      budget: { limit_usd: 25, period: 'monthly' as const, soft_limit_usd: 20 },
      limits: { rpm: 120, tpm: 200_000 },
      models: ['gpt-4o-mini', 'panel'],
    };
    const created = await store.teams.create(input);
    expect(created).toEqual({
      ...input,
      created_at: '2026-11-22T10:00:00.000Z',
      updated_at: '2026-11-22T10:00:00.000Z',
    });
    expect(await store.teams.get('research')).toEqual(created);
  });

  it('omits what a team does not have', async () => {
    const bare = await store.teams.create({ id: 'bare' });
    expect(bare).toEqual({ id: 'bare', created_at: bare.created_at, updated_at: bare.updated_at });
    expect(await store.teams.get('nobody')).toBeNull();
  });

  it('refuses a duplicate id and bad fields', async () => {
    await store.teams.create({ id: 'dup' });
    await expect(store.teams.create({ id: 'dup' })).rejects.toMatchObject({ code: 'conflict', param: 'id' });
    const bad = [
      [{ id: '' }, 'id'],
      [{ id: 'x', budget: { limit_usd: -1, period: 'monthly' } }, 'budget.limit_usd'],
      [{ id: 'x', budget: { limit_usd: 1, period: 'yearly' } }, 'budget.period'],
      [{ id: 'x', limits: { rpm: 1.5 } }, 'limits.rpm'],
      [{ id: 'x', models: ['ok', ''] }, 'models'],
    ] as const;
    for (const [input, param] of bad) {
      const err = await store.teams.create(input as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'invalid', param });
    }
    expect(await store.teams.get('x')).toBeNull();
  });

  it('lists teams by id', async () => {
    const ids = (await store.teams.list()).map((t) => t.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['bare', 'dup', 'research']));
  });

  it('updates with merge-patch semantics', async () => {
    await store.teams.create({
      id: 'patchy',
      budget: { limit_usd: 10, period: 'daily', soft_limit_usd: 8 },
      limits: { rpm: 5, tpm: 1000 },
      models: ['a'],
    });
    clock += 60_000;
    const raised = await store.teams.update('patchy', { budget: { limit_usd: 50 }, limits: { tpm: null } });
    expect(raised.budget).toEqual({ limit_usd: 50, period: 'daily', soft_limit_usd: 8 });
    expect(raised.limits).toEqual({ rpm: 5 });
    expect(raised.models).toEqual(['a']);
    expect(raised.updated_at).toBe('2026-11-22T10:01:00.000Z');
    expect(raised.created_at).toBe('2026-11-22T10:00:00.000Z');

    const cleared = await store.teams.update('patchy', {
      budget: { soft_limit_usd: null },
      models: null,
      limits: null,
    });
    expect(cleared.budget).toEqual({ limit_usd: 50, period: 'daily' });
    expect(cleared).not.toHaveProperty('models');
    expect(cleared).not.toHaveProperty('limits');

    const unbudgeted = await store.teams.update('patchy', { budget: null });
    expect(unbudgeted).not.toHaveProperty('budget');
    await expect(store.teams.update('patchy', { budget: { limit_usd: 5 } })).rejects.toMatchObject({
      code: 'invalid',
      param: 'budget',
    });
    await expect(store.teams.update('ghost', {})).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.teams.get('patchy')).toEqual(unbudgeted);
  });

  it('upserts: creates, then replaces wholesale', async () => {
    const first = await store.teams.upsert({ id: 'static', models: ['x'], limits: { rpm: 1 } });
    expect(first.models).toEqual(['x']);
    clock += 1000;
    const second = await store.teams.upsert({ id: 'static', budget: { limit_usd: 3, period: 'total' } });
    expect(second).toEqual({
      id: 'static',
      budget: { limit_usd: 3, period: 'total' },
      created_at: first.created_at,
      updated_at: new Date(clock).toISOString(),
    });
  });

  it('deletes a team only once it has no active keys; dead keys go with it, ledger rows stay', async () => {
    await store.teams.create({ id: 'doomed' });
    const live = await store.keys.create({ team: 'doomed', name: 'live' });
    const expiring = await store.keys.create({ team: 'doomed', name: 'soon', expires_at: clock + 1000 });
    const revoked = await store.keys.create({ team: 'doomed', name: 'old' });
    await store.keys.revoke(revoked.id);
    store.ledger.append({
      request_id: 'r',
      team_id: 'doomed',
      key_id: live.id,
      model: 'm',
      provider: 'p',
      input_tokens: 1,
      output_tokens: 1,
      cost_nanos: 7,
      latency_ms: 1,
      status: 200,
    });

    const err = await store.teams.delete('doomed').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'conflict' });
    expect((err as Error).message).toContain('2 active keys');

    await store.keys.revoke(live.id);
    await expect(store.teams.delete('doomed')).rejects.toThrow('1 active key;');
    clock += 1000; // the last one expires
    expect(await store.teams.delete('doomed')).toBe(true);
    expect(await store.teams.get('doomed')).toBeNull();
    expect(await store.keys.list('doomed')).toEqual([]);
    expect(await store.keys.get(expiring.id)).toBeNull();
    expect(await store.ledger.spentSince('doomed', 0)).toBe(7);
    expect(await store.teams.delete('doomed')).toBe(false);
  });
});
