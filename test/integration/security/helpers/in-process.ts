/**
 * The whole gateway in this process, as `quorum serve` wires it — config file → loadConfig → Gateway →
 * real store (a SQLite file, or whatever the caller opens) → workflow engine running steps through the gateway → Hono app — with the fake
 * upstreams behind it. Requests go through `app.fetch`, so a suite can send tens of thousands of them
 * without a socket each; only the upstream calls cross the (loopback) network, so the fakes record
 * exactly what reached a provider.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { loadConfig } from '../../../../src/config/index.ts';
import { Gateway } from '../../../../src/gateway/index.ts';
import { Learner } from '../../../../src/learning/index.ts';
import { createApp } from '../../../../src/server/app.ts';
import { openStore, type Store } from '../../../../src/store/index.ts';
import { createLogger } from '../../../../src/telemetry/index.ts';
import { Engine } from '../../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../../src/workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../../../../src/workflows/gateway-runner.ts';
import { type Fakes, startFakes } from '../../helpers/gateway.ts';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

export interface CallOptions {
  /** Bearer key; none sent when omitted. */
  key?: string;
  /** A JSON value (serialised here) … */
  json?: unknown;
  /** … or the exact bytes/text to send. */
  raw?: string | Uint8Array;
  /** Defaults to application/json whenever a body is sent. */
  contentType?: string;
  headers?: Record<string, string>;
  /**
   * Read only the first chunk of an event stream and cancel the rest: a stream that stays open while
   * a run can still change would never end otherwise.
   */
  peek?: boolean;
}

export interface InProcessGateway {
  fakes: Fakes;
  gateway: Gateway;
  store: Store;
  engine: Engine;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** Warn-and-above log lines (the last few thousand), for reporting what went wrong. */
  warnings(): string[];
  close(): Promise<void>;
}

const KEEP_LINES = 2_000;

export async function startInProcess(
  buildConfig: (fakes: Fakes) => Record<string, unknown>,
  options: {
    masterKey?: string;
    /** Opens the store (a fresh Postgres schema, say); a SQLite file in a temp dir otherwise. */
    openStore?: () => Promise<Store>;
  } = {},
): Promise<InProcessGateway> {
  const fakes = await startFakes();
  const dir = mkdtempSync(join(tmpdir(), 'quorum-security-'));
  const path = join(dir, 'quorum.yaml');
  writeFileSync(path, stringify(buildConfig(fakes)));
  const config = loadConfig({ path, env: {} });

  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        lines.push(line);
        if (lines.length > KEEP_LINES) lines.shift();
      }
      done();
    },
  });
  const logger = createLogger({ level: 'warn', destination });

  const store = options.openStore
    ? await options.openStore()
    : await openStore(`sqlite:${join(dir, 'quorum.db')}`, {
        onError: (err) => logger.error({ err }, 'store error'),
      });
  // The config's teams live in the store too, as `quorum serve` mirrors them at start-up.
  for (const t of config.teams) {
    await store.teams.upsert({
      id: t.id,
      budget: t.budget ? { limit_usd: t.budget.limit_usd, period: t.budget.period } : null,
      limits: t.limits ?? null,
      models: t.models ?? null,
    });
  }
  // Learning, as boot wires it: hostile bodies reach its analysis, schema check and feedback too.
  const learning = config.routing.learning.enabled
    ? new Learner(config, {
        repo: store.learning,
        onError: (err) => logger.warn({ err }, 'learning: background work failed'),
      })
    : undefined;
  await learning?.start();
  const gateway = await Gateway.create(config, {
    ledger: store.ledger,
    onError: (err) => logger.warn({ err }, err.message),
    onWarn: (message, fields) => logger.warn(fields, message),
    ...(learning ? { learning } : {}),
  });
  const hub = new EventHub();
  const engine = new Engine({
    store,
    runner: createGatewayRunner(gateway, storeCallerResolver(store, config)),
    onEvent: (event) => {
      hub.publish(event);
      learning?.onRunEvent(event);
    },
    onError: (err, runId) => logger.error({ err, run_id: runId }, 'workflow engine error'),
  });
  const { app } = createApp({
    gateway,
    logger,
    store,
    workflows: { engine, hub },
    ...(options.masterKey ? { masterKey: options.masterKey } : {}),
    ...(learning ? { learning } : {}),
  });

  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Reply> => {
    const body = o.raw ?? (o.json === undefined ? undefined : JSON.stringify(o.json));
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
    const res = await app.fetch(
      new Request(`http://127.0.0.1${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: body as NonNullable<RequestInit['body']> }),
      }),
    );
    let text: string;
    if (o.peek && res.body && /event-stream/.test(res.headers.get('content-type') ?? '')) {
      const reader = res.body.getReader();
      const first = await reader.read();
      await reader.cancel();
      text = first.value ? new TextDecoder().decode(first.value) : '';
    } else text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };

  return {
    fakes,
    gateway,
    store,
    engine,
    call,
    warnings: () => [...lines],
    close: async () => {
      // Runs still able to change would write to a closed store; stop them first.
      for (const run of await store.workflows.listRuns({ status: ['pending', 'running', 'waiting'] })) {
        await engine.cancel(run.id).catch(() => {});
      }
      await gateway.close();
      await learning?.close();
      await store.close();
      await fakes.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when a body is the OpenAI error shape `{"error":{"message","type","param","code"}}`. */
/** Anthropic's error shape, as the Messages surface answers: `{type: "error", error: {type, message}}`. */
export function isAnthropicError(json: any): boolean {
  const e = json?.error;
  return (
    json?.type === 'error' &&
    typeof e === 'object' &&
    e !== null &&
    typeof e.type === 'string' &&
    typeof e.message === 'string' &&
    typeof json.request_id === 'string'
  );
}

export function isOpenAIError(json: any): boolean {
  const e = json?.error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.message === 'string' &&
    typeof e.type === 'string' &&
    'param' in e &&
    'code' in e &&
    (e.param === null || typeof e.param === 'string') &&
    (e.code === null || typeof e.code === 'string')
  );
}
