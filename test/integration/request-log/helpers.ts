/**
 * The request-log suites' gateway: the demo provider (routing, fan-outs, embeddings, translated
 * Messages) beside fake OpenAI and Anthropic upstreams (failures, the Messages passthrough), two teams
 * with a static key each, the master key, and a real SQLite store. Plus small HTTP helpers: a POST that
 * returns the request id, the log's GET endpoints, and a live-tail reader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../../src/store/index.ts';
import { type Fakes, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';

export const MASTER = 'mk-request-log-master';
export const RESEARCH = 'sk-research-request-log';
export const OPS = 'sk-ops-request-log';
/** Prompts carrying it make the fake OpenAI upstream answer 500. */
export const FAIL = 'FAIL-ME';

const FAKE_MODEL = {
  context_window: 100_000,
  max_output_tokens: 1_000,
  price: { input: 1, output: 2 },
  capabilities: ['tools', 'json', 'streaming'],
};

export interface LogGateway {
  gw: TestGateway;
  store: Store;
  fakes: Fakes;
  close(): Promise<void>;
}

/** `reuse`: serve this store (left open on close) instead of a new one. */
export async function startLogGateway(
  logging: Record<string, unknown> = {},
  reuse?: Store,
): Promise<LogGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-reqlog-'));
  const store = reuse ?? (await openStore(`sqlite:${join(dir, 'q.db')}`));
  const fakes = await startFakes();
  fakes.openai.respond((req) =>
    JSON.stringify(req.body).includes(FAIL) ? { error: { status: 500, message: 'upstream exploded' } } : {},
  );
  const gw = await startGateway(
    {
      providers: [
        { id: 'demo', type: 'demo' },
        { id: 'oa', type: 'openai', base_url: `${fakes.openai.url}/v1`, api_key: 'sk-up', max_retries: 0 },
        { id: 'an', type: 'anthropic', base_url: fakes.anthropic.url, api_key: 'sk-ant-up', max_retries: 0 },
      ],
      models: [
        { id: 'demo-fast', provider: 'demo' },
        { id: 'demo-smart', provider: 'demo' },
        { id: 'demo-mini', provider: 'demo' },
        {
          id: 'embed-model',
          provider: 'demo',
          upstream: 'demo-embed',
          context_window: 8_192,
          price: { input: 0.02, output: 0 },
          capabilities: ['embeddings'],
        },
        { id: 'oa-model', provider: 'oa', upstream: 'gpt-up', ...FAKE_MODEL },
        { id: 'an-model', provider: 'an', upstream: 'claude-up', ...FAKE_MODEL },
      ],
      ensembles: {
        panel: {
          strategy: 'consensus',
          models: ['demo-fast', 'demo-smart', 'demo-mini'],
          judge: 'demo-smart',
        },
      },
      teams: [{ id: 'research' }, { id: 'ops' }],
      keys: [
        { key: RESEARCH, team: 'research', name: 'research-ci' },
        { key: OPS, team: 'ops', name: 'ops-bot' },
      ],
      logging,
    },
    { store, masterKey: MASTER },
  );
  return {
    gw,
    store,
    fakes,
    async close() {
      await gw.close();
      if (!reuse) await store.close();
      await fakes.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Posted {
  status: number;
  id: string;
  headers: Headers;
  text: string;
  json: any;
}

/** A POST with a key (as Bearer); the request id is the x-quorum-request-id header. */
export async function post(url: string, path: string, body: unknown, key: string): Promise<Posted> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return {
    status: res.status,
    id: res.headers.get('x-quorum-request-id')!,
    headers: res.headers,
    text,
    json,
  };
}

/** A GET of the log's API. */
export async function get(url: string, path: string, key: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, json: await res.json() };
}

/** A request's record, as the master key sees it. */
export async function recordOf(url: string, id: string, key = MASTER): Promise<any> {
  const { status, json } = await get(url, `/v1/requests/${id}`, key);
  if (status !== 200) throw new Error(`GET /v1/requests/${id}: ${status} ${JSON.stringify(json)}`);
  return json;
}

export interface Tail {
  /** Every `event: request` so far, parsed. */
  records: any[];
  /** Every comment line (`: …`) so far. */
  comments: string[];
  /** Resolves once `check` holds (or rejects after `ms`). */
  until(check: () => boolean, ms?: number): Promise<void>;
  /** True once the server ended the stream. */
  ended: boolean;
  close(): void;
}

/** Opens GET /v1/requests/stream and reads it in the background. */
export async function openTail(url: string, key: string, query = ''): Promise<Tail> {
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/requests/stream${query}`, {
    headers: { authorization: `Bearer ${key}` },
    signal: controller.signal,
  });
  if (res.status !== 200) throw new Error(`tail: ${res.status} ${await res.text()}`);
  const tail: Tail = {
    records: [],
    comments: [],
    ended: false,
    async until(check, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`tail: timed out (${tail.records.length} records)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => controller.abort(),
  };
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith(':')) tail.comments.push(frame.slice(1).trim());
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (frame.includes('event: request') && data) tail.records.push(JSON.parse(data.slice(6)));
          end = buffer.indexOf('\n\n');
        }
      }
      tail.ended = true;
    } catch {
      // aborted by close()
    }
  })();
  // The tail's opening comment: subscribed from here on.
  await tail.until(() => tail.comments.length > 0);
  return tail;
}
