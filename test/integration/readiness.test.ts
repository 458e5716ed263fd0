/**
 * /readyz of a real `quorum serve` on Postgres (a schema of its own) and Redis, each reached through a
 * TCP proxy the test takes down and back up: while one is down the instance answers 503 and the body
 * names it (`checks`, and the error code of the one that failed); once it is back, 200 again without
 * a restart. An instance pointed at a Redis port where nothing listens starts, but is not ready — unless
 * the operator chose to keep serving without Redis (`redis_fail_mode: open`). /healthz stays 200
 * throughout: a database outage must not get every instance restarted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, postgresSchema } from '../unit/cli/helpers.ts';
import { type ServeProcess, spawnServe } from './helpers/serve.ts';
import { closedPort, startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const PG = process.env.QUORUM_TEST_POSTGRES_URL;
const REDIS = process.env.QUORUM_TEST_REDIS_URL;

interface Probe {
  status: number;
  retryAfter: string | null;
  body: any;
}

async function readyz(url: string): Promise<Probe> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

/** Polls /readyz until it answers `status` (each dependency is probed at most once a second). */
async function readyzBecomes(url: string, status: number): Promise<Probe> {
  for (let i = 0; i < 150; i++) {
    const probe = await readyz(url);
    if (probe.status === status) return probe;
    await new Promise((r) => setTimeout(r, 100));
  }
  return readyz(url);
}

// Instances start inside some tests: bounds for a loaded machine.
describe.runIf(PG && REDIS)('/readyz reflects the store and Redis', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-readyz-'));
  const config = join(dir, 'quorum.yaml');
  let schema: Awaited<ReturnType<typeof postgresSchema>>;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let server: ServeProcess;
  const others: ServeProcess[] = [];

  const serve = (env: NodeJS.ProcessEnv, file = config) =>
    spawnServe(['--config', file], {
      cwd: dir,
      env: cleanEnv({ QUORUM_LOG_LEVEL: 'info', ...env }),
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    writeFileSync(config, 'providers: [{ id: demo, type: demo }]\n');
    schema = await postgresSchema('quorum_readyz');
    pgProxy = await startTcpProxy(schema.url, 5432);
    redisProxy = await startTcpProxy(REDIS!, 6379);
    server = await serve({ QUORUM_DATABASE_URL: pgProxy.url, QUORUM_REDIS_URL: redisProxy.url });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    for (const s of others) await s.stop();
    await pgProxy?.close();
    await redisProxy?.close();
    await schema?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 200 with every check ok while both answer', async () => {
    const probe = await readyzBecomes(server.url, 200);
    expect(probe.status).toBe(200);
    expect(probe.body).toEqual({ status: 'ok', checks: { store: 'ok', redis: 'ok' } });
  });

  it('answers 503 naming redis while Redis is unreachable, and 200 once it is back', async () => {
    await redisProxy.down();
    const down = await readyzBecomes(server.url, 503);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'unavailable',
      checks: { store: 'ok', redis: 'down' },
      error: { type: 'service_unavailable', code: 'limits_unavailable', param: null },
    });
    expect(down.body.error.message).toMatch(/Redis/);
    expect(Number(down.retryAfter)).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await redisProxy.up();
    const back = await readyzBecomes(server.url, 200);
    expect(back.body).toEqual({ status: 'ok', checks: { store: 'ok', redis: 'ok' } });
  });

  it('answers 503 naming the store while Postgres is unreachable, and 200 once it is back', async () => {
    await pgProxy.down();
    const down = await readyzBecomes(server.url, 503);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'unavailable',
      checks: { store: 'down', redis: 'ok' },
      error: { type: 'service_unavailable', code: 'store_unavailable' },
    });
    expect(down.body.error.message).toMatch(/postgres store does not answer/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    await pgProxy.up();
    const back = await readyzBecomes(server.url, 200);
    expect(back.body).toEqual({ status: 'ok', checks: { store: 'ok', redis: 'ok' } });
  });

  it('names both when both are down', async () => {
    await Promise.all([pgProxy.down(), redisProxy.down()]);
    let probe = await readyzBecomes(server.url, 503);
    // The two probes may notice a moment apart.
    for (let i = 0; i < 50 && Object.values(probe.body.checks ?? {}).includes('ok'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      probe = await readyz(server.url);
    }
    expect(probe.body.checks).toEqual({ store: 'down', redis: 'down' });
    expect(probe.body.error.code).toBe('store_unavailable');
    expect(probe.body.error.message).toMatch(/store does not answer.*Redis/s);
    await Promise.all([pgProxy.up(), redisProxy.up()]);
    expect((await readyzBecomes(server.url, 200)).status).toBe(200);
  });

  it('starts pointed at a Redis port where nothing listens, and is not ready, naming redis', async () => {
    const port = await closedPort();
    const lonely = await serve({
      QUORUM_DATABASE_URL: schema.url,
      QUORUM_REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    others.push(lonely);
    const probe = await readyzBecomes(lonely.url, 503);
    expect(probe.status).toBe(503);
    expect(probe.body).toMatchObject({ checks: { store: 'ok', redis: 'down' } });
    expect(probe.body.error.code).toBe('limits_unavailable');
  });

  it('stops at once on SIGTERM while Redis is away (nothing can be handed back; the job locks lapse)', async () => {
    const port = await closedPort();
    const stranded = await serve({
      QUORUM_DATABASE_URL: schema.url,
      QUORUM_REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    others.push(stranded);
    expect((await readyzBecomes(stranded.url, 503)).body.checks.redis).toBe('down');
    expect(await stranded.stop()).toBe(0);
    expect(stranded.output()).toMatch(/"msg":"stopped"/);
    // The retries while Redis is away are reported, not logged three times a second.
    const retries = stranded.output().match(/workflow jobs: connect ECONNREFUSED/g) ?? [];
    expect(retries.length).toBeLessThanOrEqual(2);
  });

  it('stays ready, reporting redis down, when the operator chose to serve without it (fail open)', async () => {
    const open = join(dir, 'fail-open.yaml');
    writeFileSync(open, 'providers: [{ id: demo, type: demo }]\nlimits: { redis_fail_mode: open }\n');
    const port = await closedPort();
    const tolerant = await serve(
      { QUORUM_DATABASE_URL: schema.url, QUORUM_REDIS_URL: `redis://127.0.0.1:${port}` },
      open,
    );
    others.push(tolerant);
    const probe = await readyz(tolerant.url);
    expect(probe.status).toBe(200);
    expect(probe.body).toEqual({ status: 'degraded', checks: { store: 'ok', redis: 'down' } });
  });
});
