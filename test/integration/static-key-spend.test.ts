/** Spend by key names the config file's static keys (`static:<name>`), not "no key". */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const MASTER = 'mk-static-spend-master';
const dir = mkdtempSync(join(tmpdir(), 'quorum-static-spend-'));
let fakes: Fakes;
let store: Store;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  gw = await startGateway(
    fakesConfig(fakes, {
      teams: [{ id: 'research' }],
      keys: [
        { key: 'qk-static-ci-0001', team: 'research', name: 'research-ci' },
        { key: 'qk-static-nb-0002', team: 'research', name: 'notebook' },
      ],
    }),
    { masterKey: MASTER, gateway: { ledger: store.ledger }, app: () => ({ store }) },
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('groups spend by each named static key', async () => {
  for (const key of ['qk-static-ci-0001', 'qk-static-ci-0001', 'qk-static-nb-0002']) {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oa-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
  }
  await store.ledger.flush();
  const res = await fetch(`${gw.url}/admin/spend?group_by=key`, {
    headers: { authorization: `Bearer ${MASTER}` },
  });
  const rows = ((await res.json()) as any).data as { group: string | null; requests: number }[];
  expect(Object.fromEntries(rows.map((r) => [r.group, r.requests]))).toEqual({
    'static:research-ci': 2,
    'static:notebook': 1,
  });
});
