/**
 * The real `quorum serve` with a SQLite store: spend is written to the ledger and rebuilt at start-up,
 * so a team's budget survives a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
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
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<{ url: string; stop(): Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--config', join(dir, 'quorum.yaml')],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
        QUORUM_LOG_LEVEL: 'info',
      },
    },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`did not start:\n${out}`)), 15_000);
    child.stdout!.on('data', () => {
      const m = /Quorum listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
  });
  return {
    url,
    stop: () =>
      new Promise((done) => {
        child.once('exit', (code) => done(code));
        child.kill('SIGTERM');
      }),
  };
}

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
