/**
 * `quorum serve --workers N`: the workers share one port, budgets hold across them through Redis, a
 * workflow run started through any worker runs once (in the one engine), a worker that dies is
 * replaced, SIGTERM drains them all — and a configuration that would let each worker spend a full
 * budget (no Redis) is refused up front.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from './helpers/serve.ts';

const REDIS_URL = process.env.QUORUM_TEST_REDIS_URL;
const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'quorum-workers-'));
// A team of its own: its budget keys in the shared Redis are this run's only.
const TEAM = `workers-${randomUUID().slice(0, 8)}`;
const KEY = `qk-${TEAM}-key`;
// Workflow runs are charged to a team without a budget, so the budget test cannot starve them.
const FREE_KEY = `qk-${TEAM}-free`;
const LIMIT_USD = 0.002;
const config = join(dir, 'quorum.yaml');
writeFileSync(
  config,
  [
    'providers: [{ id: demo, type: demo }]',
    'models: [{ id: demo-smart, provider: demo }]',
    'teams:',
    `  - { id: ${TEAM}, budget: { limit_usd: ${LIMIT_USD}, period: monthly } }`,
    `  - { id: ${TEAM}-free }`,
    `keys: [{ key: ${KEY}, team: ${TEAM} }, { key: ${FREE_KEY}, team: ${TEAM}-free }]`,
  ].join('\n'),
);
const env = {
  PATH: process.env.PATH,
  QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
  QUORUM_LOG_LEVEL: 'info',
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One request on a connection of its own, so the primary hands successive ones to different workers. */
function call(url: string, method: string, path: string, body?: unknown, key = KEY): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request(
      `${url}${path}`,
      {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {}
          done({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', fail);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The log lines of requests to `path` (a prefix), by the worker that served them. */
function servedBy(output: string, path: string | RegExp): Set<number> {
  const workers = new Set<number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line);
    if (entry.msg !== 'request' || entry.worker === undefined) continue;
    if (typeof path === 'string' ? entry.path.startsWith(path) : path.test(entry.path)) {
      workers.add(entry.worker);
    }
  }
  return workers;
}

async function until(check: () => boolean, what: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting: ${what()}`);
}

describe('quorum serve --workers without a shared limits backend', () => {
  it('refuses to start, saying why and what is needed', () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'src/cli/main.ts'), 'serve', '--workers', '2', '--port', '0'],
      {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      '--workers 2 needs QUORUM_REDIS_URL: budgets and rate limits must be shared, or each worker could spend a full budget',
    );
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/listening/i);
  });

  it('refuses a malformed worker count', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'serve', '--workers', 'many'], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--workers takes a number of processes \(1 or more\) or auto, got "many"/);
  });
});

describe.skipIf(!REDIS_URL)('quorum serve --workers 2 with Redis', () => {
  let server: ServeProcess;

  beforeAll(async () => {
    server = await spawnServe(['--config', config, '--workers', '2'], {
      cwd: dir,
      env: { ...env, QUORUM_REDIS_URL: REDIS_URL },
      timeoutMs: 30_000,
    });
  }, 40_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    const redis = new Redis(REDIS_URL!, { lazyConnect: true });
    await redis.connect();
    const keys = await redis.keys(`quorum:*${TEAM}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces the workers once all of them listen on the one port', async () => {
    // Each worker writes its own log lines (asynchronously): they may follow the primary's.
    const port = /:(\d+) with 2 workers/.exec(server.output())![1];
    for (const n of [1, 2]) {
      await until(
        () => server.output().includes(`worker ${n} listening on http://127.0.0.1:${port}`),
        server.output,
      );
    }
    expect(server.output()).toMatch(/Quorum listening on http:\/\/127\.0\.0\.1:\d+ with 2 workers/);
  });

  it('never spends more than a tight budget under concurrent load spread over both workers', async () => {
    const ask = (i: number) =>
      call(server.url, 'POST', '/v1/chat/completions', {
        model: 'demo-smart',
        // A small hold each, so about a dozen fit the budget.
        max_tokens: 16,
        messages: [{ role: 'user', content: `question number ${i}` }],
      });
    const replies: Reply[] = [];
    // Waves of concurrent requests until the budget refuses: far more than it admits in total.
    for (let wave = 0; wave < 10; wave++) {
      replies.push(...(await Promise.all(Array.from({ length: 12 }, (_, i) => ask(wave * 12 + i)))));
    }
    const ok = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 429);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.json.error.code).toBe('budget_exceeded');
    expect(ok.length + refused.length).toBe(replies.length);
    // Both workers took part, and together they charged no more than the one budget.
    expect(servedBy(server.output(), '/v1/chat/completions')).toEqual(new Set([1, 2]));
    const charged = ok.reduce((sum, r) => sum + Number(r.headers['x-quorum-cost-usd']), 0);
    expect(charged).toBeLessThanOrEqual(LIMIT_USD + 1e-12);
    const budget = (await call(server.url, 'GET', '/v1/budget')).json;
    expect(budget.spent_usd).toBeCloseTo(charged, 12);
    expect(budget.spent_usd).toBeLessThanOrEqual(LIMIT_USD + 1e-12);
  });

  it('runs a workflow started through either worker exactly once, in the one engine', async () => {
    const stored = await call(
      server.url,
      'POST',
      '/v1/workflows',
      { name: 'twice-no-more', steps: { answer: { model: 'demo-smart', prompt: 'What is 6 * 7?' } } },
      FREE_KEY,
    );
    expect(stored.status).toBe(201);
    const runs: Reply[] = [];
    for (let i = 0; i < 4; i++) {
      runs.push(
        await call(server.url, 'POST', `/v1/workflows/${stored.json.id}/runs?wait=true`, {}, FREE_KEY),
      );
    }
    expect(servedBy(server.output(), /^\/v1\/workflows\/[^/]+\/runs$/)).toEqual(new Set([1, 2]));
    for (const run of runs) {
      expect(run.status).toBe(200);
      expect(run.json.status).toBe('succeeded');
      expect(run.json.steps.answer).toMatchObject({ status: 'succeeded', attempts: 1 });
      // Read through either worker: the history shows the step started and succeeded once.
      const events = await call(server.url, 'GET', `/v1/runs/${run.json.id}/events`, undefined, FREE_KEY);
      expect(events.status).toBe(200);
      expect(events.text.match(/^event: step\.started$/gm)).toHaveLength(1);
      expect(events.text.match(/^event: run\.succeeded$/gm)).toHaveLength(1);
    }
  });

  it('a live tail on one worker carries the requests every worker finished; lists see them all', async () => {
    // The tail is one connection, so one worker holds it; the requests go to both.
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/requests/stream`, {
      headers: { authorization: `Bearer ${FREE_KEY}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body!) text += decoder.decode(chunk, { stream: true });
      } catch {}
    })();
    await until(
      () => text.includes(': live tail'),
      () => text,
    );
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await call(
        server.url,
        'POST',
        '/v1/chat/completions',
        { model: 'demo-smart', max_tokens: 8, messages: [{ role: 'user', content: `tail ${i}` }] },
        FREE_KEY,
      );
      expect(r.status).toBe(200);
      ids.push(String(r.headers['x-quorum-request-id']));
    }
    try {
      await until(
        () => ids.every((id) => text.includes(`id: ${id}\n`)),
        () => text,
      );
    } finally {
      controller.abort();
      await reading;
    }
    // Each worker's log line for a request is written on its own stdout, which may come after the tail.
    const logged = () => {
      const workers = new Map<string, number>();
      for (const line of server.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line);
        if (entry.msg === 'request' && ids.includes(entry.req_id)) workers.set(entry.req_id, entry.worker);
      }
      return workers;
    };
    await until(
      () => logged().size === ids.length,
      () => server.output(),
    );
    expect(new Set(logged().values())).toEqual(new Set([1, 2]));
    // The list reads the one store: each worker writes its records within a batch interval.
    let listed: string[] = [];
    for (let i = 0; i < 50 && !ids.every((id) => listed.includes(id)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const page = await call(server.url, 'GET', '/v1/requests?limit=200', undefined, FREE_KEY);
      listed = page.json.data.map((r: any) => r.id);
    }
    expect(listed).toEqual(expect.arrayContaining(ids));
  });

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const pids = /"pids":\[(\d+),(\d+)\]/.exec(server.output())!;
    const victim = Number(pids[2]);
    process.kill(victim, 'SIGKILL');
    await until(
      () => /worker 2 \(pid \d+\) was killed by SIGKILL; restarting it in 0\.5 s/.test(server.output()),
      server.output,
    );
    await until(() => /worker 2 is back/.test(server.output()), server.output);
    const models = await call(server.url, 'GET', '/v1/models');
    expect(models.status).toBe(200);
  });

  it('drains every worker on SIGTERM and exits 0', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toMatch(/SIGTERM received: draining 2 worker\(s\)/);
    expect(server.output().match(/"worker":\d,"msg":"stopped"/g)).toHaveLength(2);
    await expect(fetch(`${server.url}/readyz`)).rejects.toThrow();
  });
});
