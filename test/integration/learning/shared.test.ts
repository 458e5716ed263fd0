/**
 * What was learnt lives in the store: the operator freezes and resets it through the admin API, it
 * survives a restart on the same SQLite file, and two gateways on one Postgres database share it —
 * feedback on one reaches a request the other answered, and the other's router follows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { type Fakes, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { POSTGRES_URL, PostgresBackend } from '../store/backends.ts';
import { client, model, providers } from './fixtures.ts';

const MASTER = 'sk-master-learning-0123456789';
let fakes: Fakes;

function config(f: Fakes) {
  return {
    providers: providers(f).slice(0, 2),
    models: [model('top', 'oa', 0.9), model('runner', 'an', 0.85)],
    routing: { learning: { min_observations: 3, prior_strength: 2, refresh_seconds: 3600 } },
  };
}

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});

/** The fixtures' client, plus three bad scores for top (after which it is routed around). */
function learning(gw: TestGateway, key?: string) {
  const c = client(gw, key);
  return {
    ...c,
    general: async (name: string) => (await c.learnt(name)).general,
    async sinkTop() {
      for (let i = 0; i < 3; i++) expect((await c.feedback((await c.ask('top')).id, 0)).status).toBe(202);
    },
  };
}

describe('the operator: freeze and reset', () => {
  let dir: string;
  let store: Store;
  let gw: TestGateway;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-learning-admin-'));
    store = await openStore(`sqlite:${join(dir, 'q.db')}`);
    gw = await startGateway(config(fakes), { store, masterKey: MASTER });
    return async () => {
      await gw.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    };
  });

  it('feedback on a request just answered counts once, before and after its record is written', async () => {
    const c = learning(gw, MASTER);
    const { id } = await c.ask('top');
    // The record of who answered is still waiting for its batch: feedback finds it there.
    const first = await c.feedback(id, 0);
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ request_id: id, model: 'top', status: 'accepted' });
    expect((await c.feedback(id, 1)).status).toBe(409);
    await gw.booted.learning!.flush();
    expect((await c.feedback(id, 1)).status).toBe(409);
    await gw.booted.learning!.refresh();
    expect(await c.general('top')).toMatchObject({ observations: 1 });
  });

  it('a freeze holds the estimates and counts nothing until unfrozen', async () => {
    const api = learning(gw, MASTER);
    await api.feedback((await api.ask('top')).id, 0);
    const frozen = await api.call('POST', '/admin/quality/freeze', undefined, MASTER);
    expect(frozen.status).toBe(200);
    expect(frozen.json).toMatchObject({ enabled: true, frozen: true });
    const during = await api.feedback((await api.ask('top')).id, 0);
    expect(during.status).toBe(202);
    expect(during.json.status).toBe('frozen');
    expect(await api.general('top')).toMatchObject({ observations: 1 });
    // The store agrees: a read from it shows the one observation made before the freeze.
    const listed = await api.call('GET', '/admin/quality', undefined, MASTER);
    expect(listed.json.frozen).toBe(true);
    expect(listed.json.models.find((m: any) => m.model === 'top').categories.general.observations).toBe(1);

    expect((await api.call('POST', '/admin/quality/unfreeze', undefined, MASTER)).json.frozen).toBe(false);
    // The request answered while frozen may still be scored: its feedback was not counted then.
    await api.sinkTop();
    expect(await api.general('top')).toMatchObject({ observations: 4 });
    expect((await api.ask()).model).toBe('runner');
  });

  it('a reset sends a model back to its catalog quality (and the router back to it)', async () => {
    const api = learning(gw, MASTER);
    await api.sinkTop();
    expect((await api.ask()).model).toBe('runner');
    const reset = await api.call('DELETE', '/admin/quality/top', undefined, MASTER);
    expect(reset.status).toBe(200);
    expect(await api.general('top')).toEqual({ prior: 0.9, observed: null, effective: 0.9, observations: 0 });
    expect((await api.ask()).model).toBe('top');
    expect((await api.call('DELETE', '/admin/quality/nope', undefined, MASTER)).status).toBe(404);
    // Without the master key nobody can touch it.
    const anonymous = learning(gw);
    expect((await anonymous.call('POST', '/admin/quality/freeze')).status).toBe(401);
    expect((await anonymous.call('DELETE', '/admin/quality')).status).toBe(401);
  });
});

describe('persistence', () => {
  it('survives a restart on the same SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quorum-learning-restart-'));
    try {
      const url = `sqlite:${join(dir, 'q.db')}`;
      let store = await openStore(url);
      let gw = await startGateway(config(fakes), { store });
      await learning(gw).sinkTop();
      await gw.close();
      await store.close();

      store = await openStore(url);
      gw = await startGateway(config(fakes), { store });
      const api = learning(gw);
      expect(await api.general('top')).toMatchObject({ observed: 0, effective: 0.36, observations: 3 });
      expect((await api.ask()).model).toBe('runner');
      await gw.close();
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!POSTGRES_URL)('two gateways on one Postgres', () => {
  const backend = new PostgresBackend(POSTGRES_URL ?? '');
  afterAll(() => backend.cleanup());

  it("share what they learn, and take feedback on each other's requests", async () => {
    const target = await backend.fresh();
    const [storeA, storeB] = [await target.open(), await target.open()];
    const gwA = await startGateway(config(fakes), { store: storeA });
    const gwB = await startGateway(config(fakes), { store: storeB });
    try {
      const a = learning(gwA);
      const b = learning(gwB);
      // A answers; its record of who answered reaches the store in a batch.
      const answered = [await a.ask('top'), await a.ask('top'), await a.ask('top')];
      await gwA.booted.learning!.flush();
      // B takes the feedback on A's requests (it has never seen them) and learns.
      for (const { id } of answered) {
        const fb = await b.feedback(id, 0);
        expect(fb.status).toBe(202);
        expect(fb.json).toMatchObject({ model: 'top', status: 'accepted' });
      }
      expect((await b.ask()).model).toBe('runner');
      // A follows at its next refresh: the store is the truth.
      expect((await a.ask()).model).toBe('top');
      await gwB.booted.learning!.flush();
      // A second feedback on the same request, through the other gateway, is refused.
      const again = await a.feedback(answered[0]!.id, 1);
      expect(again.status).toBe(409);
      await gwA.booted.learning!.refresh();
      expect(await a.general('top')).toMatchObject({ observed: 0, observations: 3 });
      expect((await a.ask()).model).toBe('runner');
    } finally {
      await gwA.close();
      await gwB.close();
    }
  });
});
