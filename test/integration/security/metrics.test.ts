/**
 * GET /metrics shows every team's spend, so it is not public: behind `metrics.key` (or the master key),
 * on a listener of its own with `metrics.port` (and then not on the main port), and otherwise for
 * loopback peers only (the peer rule itself is unit-tested in test/unit/server/loopback.test.ts, since
 * a test client is always a loopback peer).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { type ServeProcess, spawnServe } from '../helpers/serve.ts';

const DEMO = { providers: [{ id: 'demo', type: 'demo' }] };
const METRICS_KEY = 'metrics-scraper-key';
const MASTER = 'mk-metrics-test-master';

const scrape = async (url: string, key?: string) => {
  const res = await fetch(`${url}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  const text = await res.text();
  return { status: res.status, text };
};

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('GET /metrics on the main port', () => {
  it('without metrics.key answers a loopback peer (Prometheus on the same host)', async () => {
    gw = await startGateway(DEMO);
    const res = await scrape(gw.url);
    expect(res.status).toBe(200);
    expect(res.text).toContain('# TYPE');
  });

  it('with metrics.key needs that key or the master key', async () => {
    gw = await startGateway(
      {
        ...DEMO,
        metrics: { key: METRICS_KEY },
        keys: [{ key: 'sk-team-key-1234', team: 't' }],
        teams: [{ id: 't' }],
      },
      { masterKey: MASTER },
    );
    for (const key of [undefined, 'wrong-key-12345', 'sk-team-key-1234']) {
      const res = await scrape(gw.url, key);
      expect(res.status, String(key)).toBe(401);
      expect(JSON.parse(res.text).error.code).toBe('invalid_api_key');
      expect(res.text).not.toContain('# TYPE');
    }
    expect((await scrape(gw.url, METRICS_KEY)).status).toBe(200);
    expect((await scrape(gw.url, MASTER)).status).toBe(200);
  });
});

describe('metrics.port: a listener of its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-metrics-'));
  let server: ServeProcess | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A port nothing listens on right now. */
  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });

  it('serves /metrics there and not on the main port', async () => {
    const port = await freePort();
    writeFileSync(join(dir, 'quorum.yaml'), stringify({ ...DEMO, metrics: { port } }));
    server = await spawnServe(['--config', join(dir, 'quorum.yaml')], {
      cwd: dir,
      env: { PATH: process.env.PATH, QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}` },
    });
    const main = await scrape(server.url);
    expect(main.status).toBe(404);
    expect(main.text).not.toContain('# TYPE');
    const dedicated = await scrape(`http://127.0.0.1:${port}`);
    expect(dedicated.status).toBe(200);
    expect(dedicated.text).toContain('# TYPE');
    // Nothing else is served there.
    expect((await fetch(`http://127.0.0.1:${port}/v1/models`)).status).toBe(404);
  });
});
