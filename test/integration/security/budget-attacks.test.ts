/**
 * Budget attacks against the real server and a fake OpenAI upstream: absurd reported usage, inputs the
 * old estimate priced near zero (a PDF, Han text), and Redis restarted empty. No team may end a period
 * over its budget, with memory limits and (when QUORUM_TEST_REDIS_URL is set) with Redis limits.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimitBackends, type LimitBackends } from '../../../src/limits/backends.ts';
import type { Store } from '../../../src/store/index.ts';
import { metrics } from '../../../src/telemetry/index.ts';
import type { FakeServer } from '../../fakes/harness.ts';
import { startFakeOpenAI } from '../../fakes/openai.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { deleteKeys, redisUrl, uniquePrefix } from '../limits/redis-env.ts';
import { backends } from '../store/backends.ts';

const KEY = 'qk-budget-attack-key-0001';
const PROMPT_MARKER = 'zebra-confidential-prompt-7741';
const PRICE = { input: 2.5, output: 10 }; // USD per 1M tokens

let fake: FakeServer;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.respond({ text: 'ok', usage: { input: 10, output: 5 } });
});

function config(limitUsd: number) {
  return {
    providers: [{ id: 'up', type: 'openai', base_url: `${fake.url}/v1`, api_key: 'k', max_retries: 0 }],
    models: [
      {
        id: 'wide',
        provider: 'up',
        context_window: 1_000_000,
        max_output_tokens: 8_000,
        price: PRICE,
        capabilities: ['streaming', 'vision'],
      },
    ],
    teams: [{ id: 'victim', budget: { limit_usd: limitUsd, period: 'monthly' } }],
    keys: [{ key: KEY, team: 'victim', name: 'ci' }],
  };
}

async function chat(gw: TestGateway, body: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: 'wide', ...body }),
  });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : null };
}

async function budget(gw: TestGateway) {
  const res = await fetch(`${gw.url}/v1/budget`, { headers: { authorization: `Bearer ${KEY}` } });
  return (await res.json()) as { spent_usd: number; reserved_usd: number; limit_usd: number };
}

const overHold = async () =>
  (await metrics.usageOverHold.get()).values.find((v) => v.labels.team === 'victim')?.value ?? 0;

const pdf = `data:application/pdf;base64,${Buffer.alloc(200 * 1024, 0x25).toString('base64')}`;
const filePrompt = {
  max_tokens: 10,
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Summarise this.' },
        { type: 'file', file: { filename: 'report.pdf', file_data: pdf } },
      ],
    },
  ],
};
/** What the PDF really bills: ~200k tokens at $2.50/M ≈ $0.50. */
const PDF_TOKENS = 200_000;
const HAN = '我们今天讨论人工智能在医疗领域的应用以及它如何改变医生诊断疾病的方式'.repeat(600);

interface Limits {
  name: string;
  make(store: Store): LimitBackends;
  cleanup(): Promise<void>;
}

const prefix = uniquePrefix();
const KINDS: Limits[] = [
  { name: 'memory', make: () => createLimitBackends({}), cleanup: async () => {} },
  ...(redisUrl
    ? [
        {
          name: 'redis',
          make: (store: Store) =>
            createLimitBackends({
              redisUrl,
              prefix,
              loadSpent: (team, since) => store.ledger.spentSince(team, since),
            }),
          cleanup: async () => {
            await deleteKeys(redisUrl!, prefix);
          },
        },
      ]
    : []),
];

describe.each(KINDS)('budget attacks with $name limits', (kind) => {
  const sqlite = backends()
    .find((b) => b.name === 'sqlite')!
    .make();
  let store: Store;
  let gw: TestGateway;

  async function start(limitUsd: number) {
    store = await (await sqlite.fresh()).open();
    gw = await startGateway(config(limitUsd), {
      gateway: { ledger: store.ledger, limits: kind.make(store) },
    });
  }

  /** The ledger's total for the team, as spend reports show it. */
  async function ledgerUsd() {
    await store.ledger.flush();
    const [row] = await store.spend.all({ team: 'victim', group_by: 'team' });
    return row?.cost_usd ?? 0;
  }

  afterEach(async () => {
    await gw?.close();
    await sqlite.cleanup();
    await kind.cleanup();
  });

  it('an upstream reporting 10^12 tokens is charged at most the hold, logged, counted, and the team goes on', async () => {
    await start(1);
    fake.respond({ text: 'ok', usage: { input: 1e12, output: 1e12 } });
    const before = await overHold();
    const res = await chat(gw, {
      max_tokens: 10,
      messages: [{ role: 'user', content: `Say hi. ${PROMPT_MARKER}` }],
    });
    expect(res.status).toBe(200);
    const b = await budget(gw);
    // The hold for a short prompt and 10 output tokens is a fraction of a cent.
    expect(b.spent_usd).toBeGreaterThan(0);
    expect(b.spent_usd).toBeLessThan(0.001);
    expect(b.reserved_usd).toBe(0);
    expect(await ledgerUsd()).toBeCloseTo(b.spent_usd, 9);
    // The answer shows what was charged, not the upstream's claim.
    expect(res.json.quorum.cost_usd).toBeCloseTo(b.spent_usd, 9);
    expect(await overHold()).toBe(before + 1);
    const warn = gw
      .logs()
      .split('\n')
      .find((l) => l.includes('exceeds the request hold'));
    expect(warn).toBeDefined();
    expect(JSON.parse(warn!)).toMatchObject({ team: 'victim', prompt_tokens: 1e12, model: 'wide' });
    expect(gw.logs()).not.toContain(PROMPT_MARKER);
    expect(gw.logs()).not.toContain(KEY);

    // Not locked for the period: an honest request goes through.
    fake.respond({ text: 'ok', usage: { input: 10, output: 5 } });
    expect((await chat(gw, { max_tokens: 10, messages: [{ role: 'user', content: 'again' }] })).status).toBe(
      200,
    );
  });

  it('the cap holds for a streamed answer too', async () => {
    await start(1);
    fake.respond({ text: 'ok', usage: { input: 1e12, output: 1e12 } });
    const res = await chat(gw, {
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Say hi.' }],
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('[DONE]');
    const b = await budget(gw);
    expect(b.spent_usd).toBeLessThan(0.001);
    const last = res.text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)))
      .find((chunk) => chunk.quorum);
    expect(last.quorum.cost_usd).toBeCloseTo(b.spent_usd, 9);
    expect(await ledgerUsd()).toBeLessThan(0.001);
  });

  it('a 200 KB file is reserved at least what it bills: refused when the budget cannot cover it', async () => {
    await start(0.4);
    fake.respond({ text: 'ok', usage: { input: PDF_TOKENS, output: 10 } });
    const res = await chat(gw, filePrompt);
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('budget_exceeded');
    expect(fake.received).toHaveLength(0);
    expect((await budget(gw)).spent_usd).toBe(0);
  });

  it('concurrent 200 KB files never take GET /v1/budget or the ledger past the limit', async () => {
    await start(1.2);
    fake.respond({ text: 'ok', usage: { input: PDF_TOKENS, output: 10 }, latencyMs: 20 });
    const before = await overHold();
    const results = await Promise.all(Array.from({ length: 8 }, () => chat(gw, filePrompt)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (r.status !== 200) expect(r.json.error.code).toBe('budget_exceeded');
    const b = await budget(gw);
    expect(b.spent_usd).toBeCloseTo(ok.length * ((PDF_TOKENS * 2.5 + 10 * 10) / 1e6), 9);
    expect(b.spent_usd).toBeLessThanOrEqual(1.2);
    expect(await ledgerUsd()).toBeLessThanOrEqual(1.2);
    expect(await overHold()).toBe(before); // honest usage fits its hold: nothing capped
    expect(gw.logs()).not.toContain('exceeds the request hold');
  });

  it('21,000 Han characters are reserved at least what they bill', async () => {
    // Tokenizers bill Han at about one token a character: $0.0525 here, past a $0.05 budget.
    await start(0.05);
    fake.respond({ text: 'ok', usage: { input: HAN.length, output: 10 } });
    const res = await chat(gw, { max_tokens: 10, messages: [{ role: 'user', content: HAN }] });
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('budget_exceeded');
    expect(fake.received).toHaveLength(0);
  });
});

describe.skipIf(!redisUrl)('Redis restarted empty', () => {
  const sqlite = backends()
    .find((b) => b.name === 'sqlite')!
    .make();
  const keys = uniquePrefix();
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
    await sqlite.cleanup();
    await deleteKeys(redisUrl!, keys);
  });

  it('re-seeds spend from the ledger: the team is refused at its limit, and the ledger stays within it', async () => {
    const store = await (await sqlite.fresh()).open();
    const limits = createLimitBackends({
      redisUrl,
      prefix: keys,
      loadSpent: (team, since) => store.ledger.spentSince(team, since),
    });
    gw = await startGateway(config(0.01), { gateway: { ledger: store.ledger, limits } });
    // Each call is charged $0.00201 (4 in, 200 out) of its $0.00202 hold: four fit in $0.01.
    const CHARGE = (4 * 2.5 + 200 * 10) / 1e6;
    fake.respond({ text: 'ok', usage: { input: 4, output: 200 } });
    const body = { max_tokens: 200, messages: [{ role: 'user', content: 'x' }] };
    expect((await chat(gw, body)).status).toBe(200);
    expect((await budget(gw)).spent_usd).toBeCloseTo(CHARGE, 12);

    expect(await deleteKeys(redisUrl!, keys)).toBeGreaterThan(0); // Redis comes back with nothing
    expect((await budget(gw)).spent_usd).toBeCloseTo(CHARGE, 12);

    let answered = 1;
    for (let i = 0; i < 10; i++) {
      const res = await chat(gw, body);
      if (res.status !== 200) {
        expect(res.json.error.code).toBe('budget_exceeded');
        break;
      }
      answered++;
      if (i === 0) await deleteKeys(redisUrl!, keys); // and again, mid-period
    }
    expect(answered).toBe(4);
    await store.ledger.flush();
    const [row] = await store.spend.all({ team: 'victim', group_by: 'team' });
    expect(row!.cost_usd).toBeLessThanOrEqual(0.01);
    expect(row!.cost_usd).toBeCloseTo(4 * CHARGE, 12);
  });
});
