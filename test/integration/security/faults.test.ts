/**
 * The real `quorum serve` process against a fault-injecting upstream (OpenAI, Anthropic and Gemini
 * wires): every fault ends in a clear error for its own request — 502/504 before the first byte, an
 * SSE `error` event and `[DONE]` after it, never a silent `stop` — and the process stays up and keeps
 * serving everyone else, alone and under a concurrent mix with clients that walk away mid-answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAULTS,
  type Fault,
  type FaultyUpstream,
  faultMarker,
  startFaultyUpstream,
} from '../../fakes/faulty.ts';
import { type ServeProcess, spawnServe } from '../helpers/serve.ts';

const PROVIDERS = { oa: 'openai', an: 'anthropic', ge: 'gemini' } as const;
type ProviderId = keyof typeof PROVIDERS;
const DEADLINE_MS = 1_000;

let upstream: FaultyUpstream;
let server: ServeProcess;
let dir: string;

/** One model per provider, fault and mode: a fault's circuit breaker never hides another fault. */
const modelOf = (p: ProviderId, fault: Fault, stream: boolean) => `${p}-${fault}-${stream ? 's' : 'j'}`;

beforeAll(async () => {
  upstream = await startFaultyUpstream();
  dir = mkdtempSync(join(tmpdir(), 'quorum-faults-'));
  const models = [];
  for (const p of Object.keys(PROVIDERS) as ProviderId[]) {
    for (const fault of FAULTS) {
      for (const stream of [true, false]) {
        models.push({
          id: modelOf(p, fault, stream),
          provider: p,
          upstream: 'faulty-model',
          context_window: 100_000,
          max_output_tokens: 1_000,
          price: { input: 1, output: 1 },
          capabilities: ['streaming'],
        });
      }
    }
  }
  const config = {
    server: { request_timeout_ms: DEADLINE_MS },
    providers: Object.entries(PROVIDERS).map(([id, type]) => ({
      id,
      type,
      base_url: type === 'openai' ? `${upstream.url}/v1` : upstream.url,
      api_key: 'upstream-key-not-secret-here',
      max_retries: 0,
    })),
    models,
  };
  writeFileSync(join(dir, 'quorum.yaml'), JSON.stringify(config));
  server = await spawnServe(['--config', join(dir, 'quorum.yaml')], {
    cwd: dir,
    env: { PATH: process.env.PATH, QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}` },
  });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  status: number;
  /** For a JSON answer or a JSON error. */
  json?: any;
  /** For a 200 stream: the data payloads in order (`[DONE]` included) and the error event's body. */
  events?: string[];
  streamError?: any;
}

async function ask(model: string, fault: Fault, stream: boolean, signal?: AbortSignal): Promise<Outcome> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      stream,
      quorum: { fallbacks: [] },
      messages: [{ role: 'user', content: `Say something. ${faultMarker(fault)}` }],
    }),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    return { status: res.status, json: JSON.parse(text) };
  }
  const events: string[] = [];
  let streamError: any;
  for (const block of text.split('\n\n').filter(Boolean)) {
    const data =
      block
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6) ?? '';
    if (block.startsWith('event: error')) streamError = JSON.parse(data);
    else events.push(data);
  }
  return { status: res.status, events, ...(streamError ? { streamError } : {}) };
}

const finishOf = (events: string[]) =>
  events
    .filter((e) => e !== '[DONE]')
    .map((e) => JSON.parse(e).choices?.[0]?.finish_reason)
    .find(Boolean);

/** A complete answer: 200, and for streams a finish reason and `[DONE]` with no error event. */
function expectAnswered(o: Outcome) {
  expect(o.status).toBe(200);
  if (o.events) {
    expect(o.streamError).toBeUndefined();
    expect(finishOf(o.events)).toBe('stop');
    expect(o.events.at(-1)).toBe('[DONE]');
  } else expect(o.json.choices[0].finish_reason).toBe('stop');
}

/** Failed before the first byte: the error as JSON with its status, like a non-streamed request. */
function expectRefused(o: Outcome, code: 'upstream_failed' | 'upstream_timeout') {
  expect(o.status).toBe(code === 'upstream_timeout' ? 504 : 502);
  expect(o.json.error).toMatchObject({ type: 'upstream_error', code });
}

/** Failed after the first byte: an error event then `[DONE]`, and no finish reason that looks complete. */
function expectCut(o: Outcome, code: 'upstream_failed' | 'upstream_timeout') {
  expect(o.status).toBe(200);
  expect(o.streamError?.error).toMatchObject({ type: 'upstream_error', code });
  expect(finishOf(o.events!)).toBeUndefined();
  expect(o.events!.at(-1)).toBe('[DONE]');
}

type Expectation = (o: Outcome) => void;

const STREAMED: Record<Fault, Expectation> = {
  ok: expectAnswered,
  'absurd-usage': expectAnswered,
  'huge-line': expectAnswered,
  malformed: (o) => expectRefused(o, 'upstream_failed'),
  'not-http': (o) => expectRefused(o, 'upstream_failed'),
  'non-json': (o) => expectRefused(o, 'upstream_failed'),
  'stall-headers': (o) => expectRefused(o, 'upstream_timeout'),
  'malformed-mid': (o) => expectCut(o, 'upstream_failed'),
  garbage: (o) => expectCut(o, 'upstream_failed'),
  reset: (o) => expectCut(o, 'upstream_failed'),
  'truncated-chunked': (o) => expectCut(o, 'upstream_failed'),
  unterminated: (o) => expectCut(o, 'upstream_failed'),
  'stall-mid': (o) => expectCut(o, 'upstream_timeout'),
};

const WHOLE: Record<Fault, Expectation> = {
  ...Object.fromEntries(FAULTS.map((f) => [f, (o: Outcome) => expectRefused(o, 'upstream_failed')])),
  ok: expectAnswered,
  'absurd-usage': expectAnswered,
  'huge-line': expectAnswered,
  'stall-headers': (o) => expectRefused(o, 'upstream_timeout'),
  'stall-mid': (o) => expectRefused(o, 'upstream_timeout'),
} as Record<Fault, Expectation>;

async function expectServing() {
  expect(server.child.exitCode).toBeNull();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expectAnswered(await ask(modelOf('oa', 'ok', true), 'ok', true));
  expectAnswered(await ask(modelOf('an', 'ok', false), 'ok', false));
}

describe('one faulty upstream harms only its own request', () => {
  it('the malformed event that used to end the process: a clear 502, and the process serves on', async () => {
    for (let i = 0; i < 3; i++) {
      expectRefused(await ask(modelOf('oa', 'malformed', true), 'malformed', true), 'upstream_failed');
      expectCut(await ask(modelOf('oa', 'malformed-mid', true), 'malformed-mid', true), 'upstream_failed');
    }
    await expectServing();
  });

  for (const p of Object.keys(PROVIDERS) as ProviderId[]) {
    it(`${PROVIDERS[p]}: each fault, streamed and not, ends in a clear answer or error`, async () => {
      // Each fault has its own model, so they can run side by side without sharing a circuit.
      const checks = FAULTS.flatMap((fault) =>
        [true, false].map(async (stream) => {
          const outcome = await ask(modelOf(p, fault, stream), fault, stream);
          return { fault, stream, outcome };
        }),
      );
      for (const { fault, stream, outcome } of await Promise.all(checks)) {
        try {
          (stream ? STREAMED : WHOLE)[fault](outcome);
        } catch (err) {
          throw new Error(
            `${fault} (stream: ${stream}): ${(err as Error).message}\n${JSON.stringify(outcome).slice(0, 600)}`,
          );
        }
      }
      await expectServing();
    });
  }

  it('the whole repertoire under concurrency, with clients leaving mid-answer: the process stays up', async () => {
    const total = 200;
    const providers = Object.keys(PROVIDERS) as ProviderId[];
    let next = 0;
    const unclear: string[] = [];
    const worker = async () => {
      for (let i = next++; i < total; i = next++) {
        const fault = FAULTS[i % FAULTS.length]!;
        const p = providers[i % providers.length]!;
        const stream = i % 2 === 0;
        // Every fifth client walks away: some before the answer, some while it streams.
        const leave = i % 5 === 0 ? new AbortController() : undefined;
        if (leave) setTimeout(() => leave.abort(), (i % 3) * 5);
        try {
          const o = await ask(modelOf(p, fault, stream), fault, stream, leave?.signal);
          const clear =
            (o.status === 200 && (o.json !== undefined || o.events?.at(-1) === '[DONE]')) ||
            ([502, 504].includes(o.status) && /^upstream_/.test(o.json?.error?.code));
          if (!clear) unclear.push(`${fault}/${p}/${stream}: ${JSON.stringify(o).slice(0, 300)}`);
        } catch (err) {
          if (!leave) unclear.push(`${fault}/${p}/${stream}: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    expect(unclear).toEqual([]);
    await expectServing();
    expect(server.output()).not.toMatch(/ERR_INVALID_STATE|Controller is already closed/);
  }, 120_000);
});
