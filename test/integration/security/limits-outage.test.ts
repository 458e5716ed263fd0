/**
 * Redis down with fail-closed limits: a metered request is refused with 503 limits_unavailable and a
 * retry-after, before any upstream call; nothing goes through unmetered.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLimitBackends } from '../../../src/limits/backends.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { closedPort } from '../helpers/tcp-proxy.ts';

const KEY = 'qk-limits-outage-0001';
let fakes: Fakes;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  const limits = createLimitBackends({
    redisUrl: `redis://127.0.0.1:${await closedPort()}`,
    prefix: `quorum-test-outage-${process.pid}:`,
    failMode: 'closed',
    commandTimeoutMs: 200,
    onWarn: () => {},
  });
  gw = await startGateway(
    fakesConfig(fakes, {
      teams: [{ id: 'metered', budget: { limit_usd: 5, period: 'monthly' }, limits: { rpm: 100 } }],
      keys: [{ key: KEY, team: 'metered', name: 'ci' }],
    }),
    { gateway: { limits } },
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
});

it('refuses a metered request with 503 limits_unavailable and retry-after, calling no upstream', async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'oa-model', messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(((await res.json()) as any).error).toMatchObject({
    type: 'service_unavailable',
    code: 'limits_unavailable',
  });
  expect(fakes.openai.received).toHaveLength(0);
});
