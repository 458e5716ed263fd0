/**
 * GET /admin/keys lists the config file's static keys beside the stored ones (never their values), and
 * DELETE on one says where it is revoked instead of answering as if it did not exist.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

const MASTER = 'mk-static-keys-master-key';
const dir = mkdtempSync(join(tmpdir(), 'quorum-admin-static-'));
let store: Store;
let gw: TestGateway;

const call = async (method: string, path: string) => {
  const res = await fetch(gw.url + path, { method, headers: { authorization: `Bearer ${MASTER}` } });
  return { status: res.status, text: await res.clone().text(), json: (await res.json()) as any };
};

beforeAll(async () => {
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  await store.teams.create({ id: 'ops' });
  gw = await startGateway(
    {
      providers: [{ id: 'demo', type: 'demo' }],
      teams: [{ id: 'research' }],
      keys: [
        { key: 'sk-static-ci-0123456789', team: 'research', name: 'ci' },
        { key: 'sk-static-anon-0123456789', team: 'research' },
      ],
    },
    { masterKey: MASTER, app: () => ({ store }) },
  );
});
afterAll(async () => {
  await gw.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('static keys in the admin API', () => {
  it('lists them after the stored keys, marked source config, without their values', async () => {
    const stored = await store.keys.create({ team: 'ops', name: 'app' });
    const r = await call('GET', '/admin/keys');
    expect(r.status).toBe(200);
    expect(r.json.data).toEqual([
      expect.objectContaining({ id: stored.id, team: 'ops', source: 'store', status: 'active' }),
      { id: null, team: 'research', name: 'ci', source: 'config', status: 'active', ledger_key: 'static:ci' },
      { id: null, team: 'research', name: null, source: 'config', status: 'active', ledger_key: null },
    ]);
    expect(r.text).not.toContain('sk-static');
    const ops = await call('GET', '/admin/keys?team=ops');
    expect(ops.json.data.map((k: any) => k.source)).toEqual(['store']);
  });

  it('refuses to revoke one with 409, saying it is defined in the config file', async () => {
    const r = await call('DELETE', '/admin/keys/static:ci');
    expect(r.status).toBe(409);
    expect(r.json.error.message).toMatch(
      /"ci" is a static key of the config file \(keys:\): remove it there/,
    );
  });
});
