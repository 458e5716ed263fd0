/**
 * The response cache on POST /v1/embeddings: vectors are deterministic, so the same team's same body is
 * answered from the cache (no upstream call, nothing charged) unless the request says
 * `quorum.cache: false`; anything that can change a vector (model, input, dimensions, encoding) and
 * the team are part of the key, `user` and tags are not.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';

const KEYS = { research: 'qk-embed-cache-research', support: 'qk-embed-cache-support' };
let fakes: Fakes;
let gw: TestGateway;

beforeAll(async () => {
  fakes = await startFakes();
  const base = fakesConfig(fakes) as { models: Record<string, unknown>[] };
  gw = await startGateway({
    ...base,
    models: [
      ...base.models,
      {
        id: 'oa-embed',
        provider: 'oa',
        upstream: 'embed-up',
        context_window: 8191,
        price: { input: 1, output: 0 },
        capabilities: ['embeddings'],
      },
    ],
    teams: [{ id: 'research', budget: { limit_usd: 1, period: 'total' } }, { id: 'support' }],
    keys: Object.entries(KEYS).map(([team, key]) => ({ key, team })),
  });
});
afterAll(async () => {
  await gw?.close();
  await fakes?.close();
});
beforeEach(() => {
  fakes.openai.reset();
  fakes.openai.respond({ usage: { input: 7 } });
});

async function embed(body: Record<string, unknown>, key = KEYS.research) {
  const res = await fetch(`${gw.url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'oa-embed', ...body }),
  });
  expect(res.status).toBe(200);
  return {
    json: (await res.json()) as any,
    cache: res.headers.get('x-quorum-cache'),
    cost: res.headers.get('x-quorum-cost-usd'),
  };
}

async function spent() {
  const res = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEYS.research}` } });
  return ((await res.json()) as any).spent_usd as number;
}

describe('embeddings from the cache', () => {
  it('the same body twice: the second is a hit with the same vectors, no upstream call and no charge', async () => {
    const first = await embed({ input: ['alpha beta', 'gamma'] });
    expect(first.cache).toBe('miss');
    expect(first.cost).toBe('0.000007'); // 7 tokens at $1 per 1M
    const before = await spent();

    const second = await embed({ input: ['alpha beta', 'gamma'], user: 'someone-else' });
    expect(second.cache).toBe('hit');
    expect(second.cost).toBe('0');
    expect(second.json.data).toEqual(first.json.data);
    expect(second.json.model).toBe('oa-embed');
    expect(second.json.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
    expect(second.json.quorum).toMatchObject({
      cost_usd: 0,
      cache: 'hit',
      cached_usage: { prompt_tokens: 7, completion_tokens: 0 },
    });
    expect(fakes.openai.received).toHaveLength(1);
    expect(await spent()).toBe(before);
  });

  it('another team, other dimensions or another encoding is a miss', async () => {
    await embed({ input: 'delta' });
    await embed({ input: 'delta' }, KEYS.support);
    await embed({ input: 'delta', dimensions: 4 });
    await embed({ input: 'delta', encoding_format: 'base64' });
    expect(fakes.openai.received).toHaveLength(4);
    // …and each of them is cached in turn.
    const again = await embed({ input: 'delta', encoding_format: 'base64' });
    expect(again.cache).toBe('hit');
    expect(typeof again.json.data[0].embedding).toBe('string');
    expect(fakes.openai.received).toHaveLength(4);
  });

  it('quorum.cache false neither reads nor fills the cache', async () => {
    await embed({ input: 'epsilon' });
    const bypass = await embed({ input: 'epsilon', quorum: { cache: false } });
    expect(bypass.cache).toBeNull();
    expect(bypass.json.quorum.cache).toBeUndefined();
    const fresh = await embed({ input: 'zeta', quorum: { cache: false } });
    expect(fresh.cache).toBeNull();
    expect((await embed({ input: 'zeta' })).cache).toBe('miss');
    // epsilon, epsilon again past the cache, zeta past it, zeta filling it: four calls
    expect(fakes.openai.received).toHaveLength(4);
  });
});
