/**
 * The real `quorum serve` with a SQLite store: spend is written to the ledger and rebuilt at start-up,
 * so a team's budget survives a restart.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from './helpers/serve.ts';

const dir = mkdtempSync(join(tmpdir(), 'quorum-persist-'));
const KEY = 'qk-persist-team-0001';
writeFileSync(
  join(dir, 'quorum.yaml'),
  [
    'providers: [{ id: demo, type: demo }]',
    'models: [{ id: demo-smart, provider: demo }]',
    'teams: [{ id: research, budget: { limit_usd: 1, period: monthly } }]',
    `keys: [{ key: ${KEY}, team: research }]`,
  ].join('\n'),
);
const servers: ServeProcess[] = [];

afterAll(() => {
  for (const s of servers) void s.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const start = async () => {
  const server = await spawnServe(['--config', join(dir, 'quorum.yaml')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
      QUORUM_LOG_LEVEL: 'info',
    },
  });
  servers.push(server);
  return server;
};

const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };

describe('spend survives a restart', () => {
  it('charges recorded before a restart still count against the budget after it', async () => {
    const first = await start();
    let charged = 0;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${first.url}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'demo-smart', messages: [{ role: 'user', content: `question ${i}` }] }),
      });
      expect(res.status).toBe(200);
      charged += Number(res.headers.get('x-quorum-cost-usd'));
    }
    const before = (await (await fetch(`${first.url}/v1/budget`, { headers })).json()) as any;
    expect(before.spent_usd).toBeCloseTo(charged, 12);
    expect(await first.stop()).toBe(0);

    const second = await start();
    const after = (await (await fetch(`${second.url}/v1/budget`, { headers })).json()) as any;
    expect(after.spent_usd).toBeCloseTo(charged, 9);
    expect(after.remaining_usd).toBeCloseTo(1 - charged, 9);
    expect(await second.stop()).toBe(0);
  });
});
