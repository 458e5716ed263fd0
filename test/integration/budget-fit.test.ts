/**
 * A budget refusal says what would fit: the largest max_tokens the remaining budget covers on every
 * model the request may reach, and that value then goes through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const KEY = 'qk-budget-fit-0001';
let fakes: Fakes;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  gw = await startGateway(
    fakesConfig(fakes, {
      // oa-model's full 4096-token output costs $0.008192; the team has half a cent.
      // Its floor (4096) keeps a request from being lowered to fit: it is refused, with what would fit.
      teams: [{ id: 'small', budget: { limit_usd: 0.005, period: 'monthly', min_output_tokens: 4096 } }],
      keys: [{ key: KEY, team: 'small', name: 'ci' }],
      routing: { fallbacks: { 'oa-model': ['an-model'] } },
    }),
  );
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
});

async function chat(body: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'oa-model', messages: [{ role: 'user', content: 'Say hi.' }], ...body }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe('a budget refusal says what would fit', () => {
  it('names the largest max_tokens that fits, and that request is admitted', async () => {
    const refused = await chat({ quorum: { fallbacks: [] }, max_tokens: 4096 });
    expect(refused.status).toBe(429);
    expect(refused.json.error.code).toBe('budget_exceeded');
    const fits = Number(/max_tokens` of at most (\d+)/.exec(refused.json.error.message)?.[1]);
    expect(fits, refused.json.error.message).toBeGreaterThan(1000);
    expect(fits).toBeLessThan(4096);
    expect((await chat({ quorum: { fallbacks: [] }, max_tokens: fits })).status).toBe(200);
    // One more token would not have fitted.
    expect((await chat({ quorum: { fallbacks: [] }, max_tokens: fits + 1 })).status).toBe(429);
  });

  it('counts the fallbacks a request may reach, and says how to leave them out', async () => {
    const refused = await chat({ max_tokens: 4096 });
    expect(refused.status).toBe(429);
    expect(refused.json.error.message).toMatch(/fallbacks included; `"quorum": \{"fallbacks": \[\]\}`/);
    const fits = Number(/max_tokens` of at most (\d+)/.exec(refused.json.error.message)?.[1]);
    // an-model's output is dearer, so the chain fits fewer tokens than oa-model alone.
    expect(fits).toBeGreaterThan(0);
    expect((await chat({ max_tokens: fits })).status).toBe(200);
  });
});
