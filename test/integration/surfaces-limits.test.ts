/**
 * One team's budget and rpm hold across every surface at once: chat completions, embeddings, the
 * Responses API and Anthropic Messages (passed through to an Anthropic model, and translated for an
 * OpenAI one), sent concurrently and mixed. Whatever the surface, the team never spends past its limit
 * nor is admitted past its rpm, each refusal comes in that surface's own error shape, and /admin/spend
 * shows every call the surfaces made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimitBackends } from '../../src/limits/backends.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { deleteKeys, redisUrl, uniquePrefix } from './limits/redis-env.ts';

const MASTER = 'mk-surfaces-master';
const KEY = 'qk-surfaces-team-0001';
const dir = mkdtempSync(join(tmpdir(), 'quorum-surfaces-'));
let fakes: Fakes;
let store: Store;
let gw: TestGateway;

const MAX_TOKENS = 100;

type Surface = 'chat' | 'embeddings' | 'responses' | 'messages (passthrough)' | 'messages (translated)';
const SURFACES: Surface[] = [
  'chat',
  'embeddings',
  'responses',
  'messages (passthrough)',
  'messages (translated)',
];

/** The request each surface sends, and the model it is charged to. */
/** `n` makes every request's text its own, so none is answered from the response cache. */
function requestOf(surface: Surface, n = 0): { path: string; body: unknown; model: string } {
  const PROMPT = `count the stars, ${n}`;
  switch (surface) {
    case 'chat':
      return {
        path: '/v1/chat/completions',
        body: { model: 'oa-model', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }] },
        model: 'oa-model',
      };
    case 'embeddings':
      return { path: '/v1/embeddings', body: { model: 'oa-embed', input: PROMPT }, model: 'oa-embed' };
    case 'responses':
      return {
        path: '/v1/responses',
        body: { model: 'ge-model', input: PROMPT, max_output_tokens: MAX_TOKENS },
        model: 'ge-model',
      };
    case 'messages (passthrough)':
    case 'messages (translated)': {
      const model = surface === 'messages (passthrough)' ? 'an-model' : 'oa-model';
      return {
        path: '/v1/messages',
        body: { model, max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: PROMPT }] },
        model,
      };
    }
  }
}

interface Outcome {
  surface: Surface;
  status: number;
  cost: number;
  json: any;
}

async function send(surface: Surface, n: number): Promise<Outcome> {
  const { path, body } = requestOf(surface, n);
  const anthropic = path === '/v1/messages';
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // Each surface authenticates the way its SDK does.
      ...(anthropic
        ? { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' }
        : { authorization: `Bearer ${KEY}` }),
    },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  return { surface, status: res.status, cost: Number(res.headers.get('x-quorum-cost-usd') ?? 0), json };
}

/** Every refusal in its surface's own shape, with the code naming the limit. */
function expectRefusedInShape(outcome: Outcome, code: 'budget_exceeded' | 'rate_limit_exceeded') {
  expect(outcome.status, outcome.surface).toBe(429);
  if (outcome.surface.startsWith('messages')) {
    expect(outcome.json).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', details: { error_code: code } },
    });
  } else {
    expect(outcome.json.error, outcome.surface).toMatchObject({ code });
  }
}

async function spendByModel() {
  await store.ledger.flush();
  const res = await fetch(`${gw.url}/admin/spend?group_by=model&team=research`, {
    headers: { authorization: `Bearer ${MASTER}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).data as { group: string; requests: number; cost_usd: number }[];
}

async function budget() {
  const res = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEY}` } });
  return (await res.json()) as any;
}

function config(team: Record<string, unknown>) {
  const base = fakesConfig(fakes) as { models: Record<string, unknown>[] };
  return {
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
    teams: [{ id: 'research', ...team }],
    keys: [{ key: KEY, team: 'research', name: 'mixed' }],
  };
}

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const fake of [fakes.openai, fakes.anthropic, fakes.gemini]) {
    fake.reset();
    // Every answer: 5 prompt + 60 completion tokens (embeddings: 5 input), well under the holds.
    fake.respond({ text: 'many', usage: { input: 5, output: 60 }, latencyMs: 10 });
  }
  store = await openStore(`sqlite:${join(dir, `${Date.now()}-${Math.random()}.db`)}`);
});
afterEach(async () => {
  await gw?.close();
  await store?.close();
});

/** The limits the gateway counts in: its own memory, or Redis (as several instances share them). */
const BACKENDS = [
  { name: 'in memory', redis: false },
  ...(redisUrl ? [{ name: 'in Redis', redis: true }] : []),
];
let prefix: string | undefined;

async function start(team: Record<string, unknown>, redis: boolean) {
  prefix = redis ? uniquePrefix() : undefined;
  const limits = prefix
    ? createLimitBackends({ redisUrl: redisUrl!, prefix, failMode: 'closed' })
    : undefined;
  gw = await startGateway(config(team), {
    masterKey: MASTER,
    gateway: { ledger: store.ledger, ...(limits ? { limits } : {}) },
    app: () => ({ store }),
  });
}

afterEach(async () => {
  if (prefix) await deleteKeys(redisUrl!, prefix);
  prefix = undefined;
});

describe.each(BACKENDS)('one team, every surface at once, limits $name', ({ redis }) => {
  it('the budget is never overspent by 150 concurrent requests mixed over the five paths', async () => {
    // The dearest hold (an-model: 100 output tokens at $15/M) is about $0.0016; $0.02 covers a few dozen.
    const LIMIT = 0.02;
    await start({ budget: { limit_usd: LIMIT, period: 'total' } }, redis);
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, (_, i) => send(SURFACES[i % SURFACES.length]!, i)),
    );
    const ok = outcomes.filter((o) => o.status === 200);
    for (const o of outcomes.filter((o) => o.status !== 200)) expectRefusedInShape(o, 'budget_exceeded');
    // Each surface got some requests in before the money ran out (none was starved or bypassed).
    for (const s of SURFACES)
      expect(
        ok.some((o) => o.surface === s),
        s,
      ).toBe(true);
    expect(ok.length).toBeLessThan(outcomes.length);

    const charged = ok.reduce((sum, o) => sum + o.cost, 0);
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(LIMIT);
    const b = await budget();
    expect(b.reserved_usd).toBe(0);
    expect(b.spent_usd).toBeCloseTo(charged, 12);
    expect(b.spent_usd).toBeLessThanOrEqual(LIMIT);

    // The ledger holds a row for every answered call, on every model the surfaces reached.
    const rows = await spendByModel();
    for (const s of SURFACES) {
      const model = requestOf(s).model;
      expect(
        rows.find((r) => r.group === model),
        `${s} → ${model}`,
      ).toBeDefined();
    }
    const ledgerTotal = rows.reduce((sum, r) => sum + r.cost_usd, 0);
    expect(ledgerTotal).toBeCloseTo(charged, 12);
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(ok.length);
  });

  it('the rpm admits exactly its limit across the surfaces; the rest are refused in their own shape', async () => {
    const RPM = 12;
    await start({ limits: { rpm: RPM } }, redis);
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => send(SURFACES[i % SURFACES.length]!, i)),
    );
    const ok = outcomes.filter((o) => o.status === 200);
    expect(ok).toHaveLength(RPM);
    const refused = outcomes.filter((o) => o.status !== 200);
    expect(refused).toHaveLength(40 - RPM);
    for (const o of refused) expectRefusedInShape(o, 'rate_limit_exceeded');
    // Nothing refused reached an upstream.
    const upstreamCalls =
      fakes.openai.received.length + fakes.anthropic.received.length + fakes.gemini.received.length;
    expect(upstreamCalls).toBe(RPM);
  });
});
