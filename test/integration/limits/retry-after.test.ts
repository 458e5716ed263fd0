/**
 * What a client sees when a key's or team's rate limit refuses it, through the real server and the
 * official OpenAI SDK: `retry-after` (whole seconds) and `retry-after-ms` are the time until the sliding
 * minute admits the same request, the message says the same number, and a request larger than the whole
 * tpm is told it can never fit and is not retried by the SDK. The limits run on an injected clock;
 * with QUORUM_TEST_REDIS_URL the same cases run against Redis (own key prefix, deleted afterwards).
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimitBackends, type LimitBackends } from '../../../src/limits/backends.ts';
import type { FakeServer } from '../../fakes/harness.ts';
import { startFakeOpenAI } from '../../fakes/openai.ts';
import { type TestClock, testClock } from '../../unit/limits/clock.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { deleteKeys, redisUrl, uniquePrefix } from './redis-env.ts';

const KEY = 'qk-retry-after-0001';
let fake: FakeServer;

function config(url: string, limits: Record<string, number>) {
  return {
    providers: [{ id: 'up', type: 'openai', base_url: `${url}/v1`, api_key: 'k', max_retries: 0 }],
    models: [
      {
        id: 'm',
        provider: 'up',
        context_window: 100_000,
        max_output_tokens: 4_000,
        price: { input: 1, output: 2 },
      },
    ],
    teams: [{ id: 'research', limits }],
    keys: [{ key: KEY, team: 'research', name: 'ci' }],
  };
}

const ask = (maxTokens = 20) => ({
  model: 'm',
  max_tokens: maxTokens,
  messages: [{ role: 'user' as const, content: 'hi' }],
});

/** The SDK's error for a request expected to fail. */
async function refusal(client: OpenAI, maxTokens?: number) {
  try {
    await client.chat.completions.create(ask(maxTokens));
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

// Each test's clock starts at the same instant, so each gets fresh counters: its own key prefix.
const prefixes: string[] = [];
const kinds = [
  { name: 'memory', make: (clock: TestClock) => createLimitBackends({ now: clock.now }) },
  ...(redisUrl
    ? [
        {
          name: 'redis',
          make: (clock: TestClock) => {
            const prefix = uniquePrefix();
            prefixes.push(prefix);
            return createLimitBackends({ redisUrl, prefix, now: clock.now });
          },
        },
      ]
    : []),
];

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(redisUrl!, prefix);
});

describe.each(kinds)('rate-limit refusals ($name)', ({ make }) => {
  let clock: TestClock;
  let limits: LimitBackends;
  let gw: TestGateway | undefined;

  beforeEach(async () => {
    fake.reset();
    fake.respond({ text: 'ok', usage: { input: 5, output: 10 } });
    clock = testClock('2026-11-22T12:00:00.000Z');
    limits = make(clock);
    expect(await limits.ready()).toBe(true);
  });
  afterEach(async () => {
    // The gateway closes the limits it was given.
    await gw?.close();
    gw = undefined;
  });

  const start = async (teamLimits: Record<string, number>) => {
    gw = await startGateway(config(fake.url, teamLimits), { gateway: { limits } });
    return gw;
  };

  it('a burst over 0..24 s is told at 24 s to retry after 36 s, and is admitted again at 62 s', async () => {
    const client = (await start({ rpm: 25 })).client(KEY);
    for (let i = 0; i < 25; i++) {
      if (i > 0) clock.advance(1_000);
      await client.chat.completions.create(ask());
    }
    const err = await refusal(client);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.headers.get('retry-after')).toBe('36');
    expect(err.headers.get('retry-after-ms')).toBe('36000');
    expect(err.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(err.message).toContain('25 requests per minute');
    expect(err.message).toContain('Retry after 36 s.');

    clock.advance(35_000); // 1 s short of the wait
    const early = await refusal(client);
    expect(early.headers.get('retry-after')).toBe('1');
    expect(early.message).toContain('Retry after 1 s.');

    clock.advance(3_000); // t = 62 s, the user's retry
    const back = await client.chat.completions.create(ask()).withResponse();
    expect(back.response.status).toBe(200);
    expect(fake.received).toHaveLength(26);
  });

  it('rounds a sub-second wait up to retry-after 1 while retry-after-ms is exact, and the SDK retries after it', async () => {
    const g = await start({ rpm: 1 });
    await g.client(KEY).chat.completions.create(ask());
    clock.advance(59_700);
    const seen: { status: number; retryAfter: string | null; retryAfterMs: string | null }[] = [];
    const client = new OpenAI({
      baseURL: `${g.url}/v1`,
      apiKey: KEY,
      maxRetries: 1,
      // Time passes on the limits' clock exactly as long as the gateway asked the SDK to wait.
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const ms = res.headers.get('retry-after-ms');
        seen.push({ status: res.status, retryAfter: res.headers.get('retry-after'), retryAfterMs: ms });
        if (res.status === 429 && ms) clock.advance(Number(ms));
        return res;
      },
    });
    const answer = await client.chat.completions.create(ask());
    expect(answer.choices[0]?.message.content).toBe('ok');
    expect(seen).toEqual([
      { status: 429, retryAfter: '1', retryAfterMs: '300' },
      { status: 200, retryAfter: null, retryAfterMs: null },
    ]);
  });

  it('refuses a request larger than the whole tpm as never fitting: x-should-retry false, no retry time, no SDK retry', async () => {
    const g = await start({ tpm: 500 });
    let attempts = 0;
    const client = new OpenAI({
      baseURL: `${g.url}/v1`,
      apiKey: KEY,
      maxRetries: 3,
      fetch: (input, init) => {
        attempts++;
        return fetch(input, init);
      },
    });
    const err = await refusal(client, 1_000);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.headers.get('x-should-retry')).toBe('false');
    expect(err.headers.get('retry-after')).toBeNull();
    expect(err.headers.get('retry-after-ms')).toBeNull();
    expect(err.message).toContain('can never fit');
    expect(err.message).toContain('500 tokens per minute');
    expect(attempts).toBe(1);
    expect(fake.received).toHaveLength(0);
    // One that fits the tpm is served.
    expect((await g.client(KEY).chat.completions.create(ask(100))).choices[0]?.message.content).toBe('ok');
  });
});
