/**
 * Durability: the real `quorum serve` is killed with SIGKILL in the middle of a slow step, restarted on
 * the same database, and finishes the run without re-running any finished step — on SQLite, and on
 * Postgres when QUORUM_TEST_POSTGRES_URL is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeServer } from '../../fakes/harness.ts';
import { startFakeOpenAI } from '../../fakes/openai.ts';
import { type ServeProcess, spawnServe } from '../helpers/serve.ts';

const dir = mkdtempSync(join(tmpdir(), 'quorum-crash-'));
let fake: FakeServer;
const servers: ServeProcess[] = [];

const WORKFLOW = {
  name: 'crash-test',
  inputs: { who: { type: 'string' } },
  steps: {
    quick: { prompt: 'QUICK answer for {{ inputs.who }}', model: 'm' },
    slow: { prompt: 'SLOW answer for {{ inputs.who }}', model: 'm' },
    join: {
      needs: ['quick', 'slow'],
      prompt: 'JOIN {{ steps.quick.output }} and {{ steps.slow.output }}',
      model: 'm',
    },
  },
  outputs: { result: '{{ steps.join.output }}' },
};

beforeAll(async () => {
  fake = await startFakeOpenAI();
  writeFileSync(
    join(dir, 'quorum.yaml'),
    [
      `providers: [{ id: up, type: openai, base_url: "${fake.url}/v1", api_key: k, max_retries: 0 }]`,
      'models: [{ id: m, provider: up, context_window: 100000, max_output_tokens: 1000, price: { input: 1, output: 1 }, capabilities: [json, streaming] }]',
    ].join('\n'),
  );
});
afterAll(async () => {
  for (const s of servers) void s.stop('SIGKILL');
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(databaseUrl: string): Promise<ServeProcess> {
  const server = await spawnServe(['--config', join(dir, 'quorum.yaml')], {
    cwd: dir,
    env: { PATH: process.env.PATH, QUORUM_DATABASE_URL: databaseUrl, QUORUM_LOG_LEVEL: 'info' },
  });
  servers.push(server);
  return server;
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = (text: string) =>
  fake.received.filter((r) => JSON.stringify(r.body.messages).includes(text)).length;

async function crashAndResume(databaseUrl: string) {
  fake.reset();
  // The slow step hangs the first time (the server is killed in the middle of it) and answers after.
  let slowSeen = 0;
  fake.respond((req) => {
    const prompt = JSON.stringify(req.body.messages);
    if (prompt.includes('SLOW')) return slowSeen++ === 0 ? { hang: true } : { text: 'slow-done' };
    return { text: prompt.includes('JOIN') ? 'joined' : 'quick-done' };
  });
  const first = await serve(databaseUrl);
  const json = { 'content-type': 'application/json' };
  const wf = (await (
    await fetch(`${first.url}/v1/workflows`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(WORKFLOW),
    })
  ).json()) as any;
  const started = (await (
    await fetch(`${first.url}/v1/workflows/${wf.id}/runs`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ inputs: { who: 'Ada' } }),
    })
  ).json()) as any;
  const runUrl = `${first.url}/v1/runs/${started.run_id}`;
  await until(
    async () => (await (await fetch(runUrl)).json()) as any,
    (r) => r.steps.quick.status === 'succeeded' && r.steps.slow.status === 'running',
  );
  await first.stop('SIGKILL');

  const second = await serve(databaseUrl);
  const done = await until(
    async () => (await (await fetch(`${second.url}/v1/runs/${started.run_id}`)).json()) as any,
    (r) => ['succeeded', 'failed'].includes(r.status),
  );
  expect(done.status).toBe('succeeded');
  expect(done.outputs).toEqual({ result: 'joined' });
  expect(count('QUICK')).toBe(1); // finished before the crash: never runs again
  expect(count('SLOW')).toBe(2); // running at the crash: runs again
  expect(count('JOIN')).toBe(1);
  await second.stop();
}

describe('a run survives SIGKILL', () => {
  it('on SQLite', async () => {
    await crashAndResume(`sqlite:${join(dir, 'crash.db')}`);
  });

  it.runIf(process.env.QUORUM_TEST_POSTGRES_URL)('on Postgres', async () => {
    const schema = `quorum_crash_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: process.env.QUORUM_TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    try {
      const url = new URL(process.env.QUORUM_TEST_POSTGRES_URL!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      await crashAndResume(url.toString());
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });
});
