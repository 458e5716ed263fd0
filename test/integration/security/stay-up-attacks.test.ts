/**
 * Staying up against what a broken network, a broken provider or a patient client can do that the
 * other suites do not: provider error bodies whose fields are not the documented types (a `message`
 * that is an object, a numeric `code`, Gemini `details` that is no list) must reach the client as the
 * provider's answer — a 400 stays a 400 with a string message and code, a 503 counts against the
 * deployment's circuit — never as the gateway's own internal error; and `quorum serve` must finish a
 * SIGTERM while clients hold event streams of runs that are waiting for a person; and a `HEAD` of an
 * event stream, whose body nobody reads, must not leave its subscription behind.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { Engine } from '../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../src/workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../../../src/workflows/gateway-runner.ts';
import type { FakeServer } from '../../fakes/harness.ts';
import {
  type Fakes,
  fakesConfig,
  PROVIDERS,
  startFakes,
  startGateway,
  type TestGateway,
} from '../helpers/gateway.ts';
import { spawnServe } from '../helpers/serve.ts';

type ProviderRow = (typeof PROVIDERS)[number];

/** Error bodies each provider's wire could carry, in shapes its documentation does not promise. */
const ODD_BODIES: Record<ProviderRow['type'], { client: string[]; upstream: string[] }> = {
  openai: {
    client: [
      JSON.stringify({ error: { message: { text: 'bad input' }, type: 'invalid_request_error', code: 400 } }),
      JSON.stringify({ error: { message: 'bad input', type: { nested: true }, code: { x: 1 } } }),
    ],
    upstream: [JSON.stringify({ error: { message: ['overloaded'], code: { x: 1 } } })],
  },
  anthropic: {
    client: [
      JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: { text: 'bad input' } },
      }),
      JSON.stringify({ type: 'error', error: { type: { nested: true }, message: ['bad input'] } }),
    ],
    upstream: [
      JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: { why: 'busy' } } }),
    ],
  },
  gemini: {
    client: [
      JSON.stringify({ error: { code: 400, message: { text: 'bad input' }, status: 'INVALID_ARGUMENT' } }),
      JSON.stringify({ error: { code: 400, message: 'bad input', status: { x: 1 }, details: 'none' } }),
      JSON.stringify({
        error: { code: '400', message: 'bad input', details: [{ '@type': 7, retryDelay: {} }] },
      }),
    ],
    upstream: [
      JSON.stringify({ error: { code: 503, message: { why: 'busy' }, details: { retry: 'later' } } }),
    ],
  },
};

describe('provider error bodies of unexpected shapes', () => {
  let fakes: Fakes;
  let gw: TestGateway;

  beforeAll(async () => {
    fakes = await startFakes();
    gw = await startGateway(fakesConfig(fakes));
  });
  afterEach(() => {
    for (const p of PROVIDERS) fakes[p.fake].reset();
  });
  afterAll(async () => {
    await gw?.close();
    await fakes?.close();
  });

  const ask = async (model: string) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'hello' }],
        quorum: { fallbacks: [] },
      }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const fake = (p: ProviderRow): FakeServer => fakes[p.fake];

  it.each(PROVIDERS)('$type: a 400 stays the client’s 400, with a string message and code', async (p) => {
    for (const raw of ODD_BODIES[p.type].client) {
      fake(p).respond({ raw, rawStatus: 400 });
      const { status, body } = await ask(p.model);
      expect({ raw, status }).toEqual({ raw, status: 400 });
      expect(typeof body.error.message).toBe('string');
      expect(body.error.code === null || typeof body.error.code === 'string').toBe(true);
    }
    expect(gw.logs()).not.toContain('failed inside the gateway');
  });

  it.each(PROVIDERS)(
    '$type: a 503 with an odd body counts against the deployment (its circuit opens)',
    async (p) => {
      // A deployment of its own: the 400s above never count, and this one starts closed.
      const [raw] = ODD_BODIES[p.type].upstream;
      fake(p).respond({ raw: raw!, rawStatus: 503 });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await ask(p.model)).status);
      expect(statuses).toEqual([502, 502, 502, 502]);
      // Three consecutive upstream failures open the circuit: the fourth request never reached the provider.
      expect(fake(p).received).toHaveLength(3);
      expect(gw.logs()).not.toContain('failed inside the gateway');
    },
  );
});

describe('SIGTERM while clients follow runs waiting for a person', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-stay-up-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the event streams and exits cleanly', { timeout: 30_000 }, async () => {
    writeFileSync(join(dir, 'quorum.yaml'), JSON.stringify({ server: { request_timeout_ms: 2_000 } }));
    const server = await spawnServe(['--config', join(dir, 'quorum.yaml')], {
      cwd: dir,
      env: { PATH: process.env.PATH, QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}` },
    });
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    try {
      const post = (path: string, body: unknown) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<any>);
      const wf = await post('/v1/workflows', { name: 'sign-off', steps: { sign: { type: 'approval' } } });
      const run = await post(`/v1/workflows/${wf.id}/runs`, {});
      // Two followers: one from the start, one resuming after the first event.
      for (const headers of [{}, { 'last-event-id': '1' }]) {
        const res = await fetch(`${server.url}/v1/runs/${run.run_id}/events`, { headers });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        readers.push(reader);
        let seen = '';
        while (!seen.includes('step.waiting')) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the event stream ended early: ${seen}`);
          seen += new TextDecoder().decode(value);
        }
      }

      const exit = server.stop('SIGTERM');
      // Each stream ends (a follower reconnects with Last-Event-ID to whichever instance serves next).
      for (const reader of readers) {
        let done = false;
        while (!done) ({ done } = await reader.read().catch(() => ({ done: true, value: undefined })));
      }
      expect(await exit).toBe(0);
      expect(server.output()).toContain('"msg":"stopped"');
    } finally {
      for (const reader of readers) await reader.cancel().catch(() => {});
      await server.stop('SIGKILL');
    }
  });
});

describe('HEAD of an event stream', () => {
  let dir: string;
  let store: Store;
  let hub: EventHub;
  let gw: TestGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'quorum-stay-up-head-'));
    store = await openStore(`sqlite:${join(dir, 'q.db')}`);
    hub = new EventHub();
    // Wired as `quorum serve` wires it, in open mode (no keys: the request is the default team's).
    gw = await startGateway(
      {},
      {
        app: (gateway) => {
          const engine = new Engine({
            store,
            runner: createGatewayRunner(gateway, storeCallerResolver(store, gateway.config)),
            onEvent: hub.publish,
          });
          return { store, workflows: { engine, hub } };
        },
      },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the headers and lets go of the run (a waiting run would hold each one forever)', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${gw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<any>);
    const wf = await post('/v1/workflows', { name: 'sign-off', steps: { sign: { type: 'approval' } } });
    const run = await post(`/v1/workflows/${wf.id}/runs`, {});
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${gw.url}/v1/runs/${run.run_id}/events`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(await res.text()).toBe('');
    }
    expect(hub.subscribers(run.run_id)).toBe(0);
  });
});
