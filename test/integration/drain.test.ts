/**
 * SIGTERM drains a real `quorum serve`: /readyz turns 503 `draining` at once; for
 * `server.drain_delay_ms` requests are still accepted (a load balancer polling /readyz stops sending
 * meanwhile) and answered with `Connection: close`; the requests in flight finish; their ledger rows are
 * written before the process exits 0. A request still running after `server.drain_timeout_ms` is cut,
 * and the process still exits 0 with its ledger flushed. With `--workers 2` the primary forwards
 * SIGTERM and every worker drains the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openStore } from '../../src/store/index.ts';
import type { FakeServer } from '../fakes/harness.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { cleanEnv } from '../unit/cli/helpers.ts';
import { spawnServe } from './helpers/serve.ts';

const REDIS = process.env.QUORUM_TEST_REDIS_URL;

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/** A chat request on a keep-alive connection of its own; rejects when the connection is cut. */
function chat(url: string, content: string): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = request(
      `${url}/v1/chat/completions`,
      { method: 'POST', headers: { 'content-type': 'application/json', connection: 'keep-alive' } },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => done({ status: res.statusCode!, connection: res.headers.connection, body }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(JSON.stringify({ model: 'oa-model', messages: [{ role: 'user', content }], max_tokens: 8 }));
  });
}

async function readyz(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.json() };
}

/** Waits for `check` (no time bound of its own; the test's timeout is the bound). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

describe('graceful drain on SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-drain-'));
  let fake: FakeServer;

  const setup = (name: string, server: Record<string, number>) => {
    const config = join(dir, `${name}.yaml`);
    writeFileSync(
      config,
      stringify({
        server,
        providers: [
          { id: 'oa', type: 'openai', base_url: `${fake.url}/v1`, api_key: 'sk-fake', max_retries: 0 },
        ],
        models: [
          {
            id: 'oa-model',
            provider: 'oa',
            context_window: 8_000,
            max_output_tokens: 64,
            price: { input: 1, output: 2 },
          },
        ],
      }),
    );
    const db = join(dir, `${name}.db`);
    return { config, db, env: cleanEnv({ QUORUM_DATABASE_URL: `sqlite:${db}`, QUORUM_LOG_LEVEL: 'info' }) };
  };

  const ledgerIds = async (db: string) => {
    const store = await openStore(`sqlite:${db}`);
    try {
      const rows = await store.db.selectFrom('ledger').select(['request_id', 'status']).execute();
      return rows;
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns not ready at once, keeps accepting for the delay, finishes what it has, flushes, exits 0', async () => {
    // The delay is long enough for the test to send a request inside it on any machine.
    const { config, db, env } = setup('delay', { drain_delay_ms: 3_000, drain_timeout_ms: 30_000 });
    const server = await spawnServe(['--config', config], { cwd: dir, env, timeoutMs: 60_000 });
    fake.respond((req) =>
      req.body.messages[0].content === 'slow' ? { text: 'late', latencyMs: 1_500 } : { text: 'quick' },
    );
    const slow = chat(server.url, 'slow');
    await until(() => fake.received.some((r) => r.body.messages[0].content === 'slow'));

    const exited = server.stop('SIGTERM');
    await until(async () => (await readyz(server.url)).status === 503);
    expect((await readyz(server.url)).body).toMatchObject({
      status: 'draining',
      error: { type: 'server_error', code: 'not_ready' },
    });
    // Inside the delay: still served, and told not to reuse the connection.
    const during = await chat(server.url, 'during the delay');
    expect(during.status).toBe(200);
    expect(during.connection).toBe('close');
    // /healthz still says the process is alive.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const late = await slow;
    expect(late.status).toBe(200);
    expect(JSON.parse(late.body).choices[0].message.content).toBe('late');
    expect(await exited).toBe(0);
    await expect(fetch(`${server.url}/readyz`)).rejects.toThrow();

    const ids = [JSON.parse(late.body).quorum.request_id, JSON.parse(during.body).quorum.request_id];
    const rows = await ledgerIds(db);
    expect(rows.map((r) => r.request_id).sort()).toEqual(ids.sort());
  }, 120_000);

  it('cuts what is still running after the drain timeout, and still exits 0 with its ledger written', async () => {
    const { config, db, env } = setup('timeout', { drain_delay_ms: 0, drain_timeout_ms: 500 });
    const server = await spawnServe(['--config', config], { cwd: dir, env, timeoutMs: 60_000 });
    fake.respond((req) => (req.body.messages[0].content === 'hang' ? { hang: true } : { text: 'quick' }));
    const done = await chat(server.url, 'answered before');
    expect(done.status).toBe(200);
    const hung = chat(server.url, 'hang').then(
      () => 'answered',
      () => 'cut',
    );
    await until(() => fake.received.some((r) => r.body.messages[0].content === 'hang'));

    expect(await server.stop('SIGTERM')).toBe(0);
    expect(await hung).toBe('cut');
    expect(server.output()).toMatch(/drain timeout \(500 ms\): cut 1 connection/);
    const rows = await ledgerIds(db);
    expect(rows.map((r) => r.request_id)).toContain(JSON.parse(done.body).quorum.request_id);
  }, 120_000);

  it.runIf(REDIS)(
    'with --workers 2, the primary forwards SIGTERM and every worker drains',
    async () => {
      const { config, db, env } = setup('workers', { drain_delay_ms: 1_000, drain_timeout_ms: 30_000 });
      const server = await spawnServe(['--config', config, '--workers', '2'], {
        cwd: dir,
        env: { ...env, QUORUM_REDIS_URL: REDIS },
        timeoutMs: 60_000,
      });
      fake.respond({ text: 'late', latencyMs: 1_500 });
      const before = fake.received.length;
      // Two on connections of their own, so both workers are likely to hold one.
      const inFlight = [chat(server.url, 'one'), chat(server.url, 'two')];
      await until(() => fake.received.length >= before + 2);

      const exited = server.stop('SIGTERM');
      await until(async () => (await readyz(server.url).catch(() => ({ status: 0 }))).status === 503);
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      expect(await exited).toBe(0);
      expect(server.output().match(/"worker":\d,"msg":"stopped"/g)).toHaveLength(2);
      const rows = await ledgerIds(db);
      const ids = answers.map((a) => JSON.parse(a.body).quorum.request_id);
      expect(rows.map((r) => r.request_id)).toEqual(expect.arrayContaining(ids));
    },
    90_000,
  );
});
