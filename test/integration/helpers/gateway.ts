/**
 * Starts the real gateway through the same boot as `quorum serve` (config file → loadConfig → Gateway
 * → Hono app → node server) on a free 127.0.0.1 port, with its logs captured for assertions. Tests
 * talk to it through the official `openai` SDK or plain fetch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { type Booted, boot } from '../../../src/boot/index.ts';
import { loadConfig } from '../../../src/config/index.ts';
import type { Gateway, GatewayOptions } from '../../../src/gateway/index.ts';
import type { AppOptions } from '../../../src/server/app.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { createLogger } from '../../../src/telemetry/index.ts';
import { startFakeAnthropic } from '../../fakes/anthropic.ts';
import { startFakeGemini } from '../../fakes/gemini.ts';
import type { FakeServer } from '../../fakes/harness.ts';
import { startFakeOpenAI } from '../../fakes/openai.ts';

export interface TestGateway {
  url: string;
  /** An OpenAI SDK client pointed at the gateway (no SDK retries, so every error is seen once). */
  client(apiKey?: string): OpenAI;
  /** Every log line written so far, raw. */
  logs(): string;
  /** What the boot opened: the gateway, the store and the workflow engine when there are. */
  booted: Booted;
  close(): Promise<void>;
}

export async function startGateway(
  config: Record<string, unknown>,
  options: {
    env?: NodeJS.ProcessEnv;
    masterKey?: string;
    gateway?: GatewayOptions;
    /**
     * A store to serve (the admin API, the ledger, workflows); it stays open after close(). `open`: the
     * boot opens QUORUM_DATABASE_URL of `env`, as `quorum serve` does, and closes it on close().
     */
    store?: Store | 'open';
    /** With a store: run the workflow engine here, as `quorum serve` does. */
    workflows?: boolean;
    /** Extra app services (a store, the workflow engine), built against the started gateway. */
    app?: (gateway: Gateway) => Partial<Pick<AppOptions, 'store' | 'workflows'>>;
  } = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-test-'));
  const path = join(dir, 'quorum.yaml');
  writeFileSync(path, stringify(config));
  const env = options.env ?? {};
  const gatewayConfig = loadConfig({ path, env });

  let logText = '';
  const destination = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const booted = await boot({
    logger,
    config: { loaded: gatewayConfig },
    env,
    store: options.store ?? 'none',
    workflows: options.workflows ? 'run' : 'none',
    ...(options.gateway ? { gateway: options.gateway } : {}),
    http: {
      port: 0,
      hostname: '127.0.0.1',
      masterKey: options.masterKey,
      ...(options.app ? { extend: options.app } : {}),
    },
  });
  const url = booted.http!.url;

  return {
    url,
    booted,
    client: (apiKey = 'unused') => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 }),
    logs: () => logText,
    close: async () => {
      await booted.close({ force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A SQLite store of its own in a temp folder, for suites that read the ledger, the admin API or stored
 * responses; `close()` closes it and removes the folder.
 */
export async function tempStore(prefix: string): Promise<{ store: Store; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Fakes {
  openai: FakeServer;
  anthropic: FakeServer;
  gemini: FakeServer;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const [openai, anthropic, gemini] = await Promise.all([
    startFakeOpenAI(),
    startFakeAnthropic(),
    startFakeGemini(),
  ]);
  return {
    openai,
    anthropic,
    gemini,
    close: async () => {
      await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
    },
  };
}

const CAPS = ['tools', 'vision', 'json', 'streaming'];

/**
 * A config with one provider per fake and one model each (`oa-model`, `an-model`, `ge-model`), priced
 * so costs are easy to check by hand.
 */
export function fakesConfig(fakes: Fakes, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    providers: [
      {
        id: 'oa',
        type: 'openai',
        base_url: `${fakes.openai.url}/v1`,
        api_key: 'sk-upstream-openai-secret',
        max_retries: 0,
      },
      {
        id: 'an',
        type: 'anthropic',
        base_url: fakes.anthropic.url,
        api_key: 'sk-ant-upstream-secret',
        max_retries: 0,
      },
      {
        id: 'ge',
        type: 'gemini',
        base_url: fakes.gemini.url,
        api_key: 'gemini-upstream-secret',
        max_retries: 0,
      },
    ],
    models: [
      {
        id: 'oa-model',
        provider: 'oa',
        upstream: 'gpt-up',
        context_window: 128000,
        max_output_tokens: 4096,
        price: { input: 1, output: 2, cached_input: 0.5 },
        capabilities: CAPS,
      },
      {
        id: 'an-model',
        provider: 'an',
        upstream: 'claude-up',
        context_window: 200000,
        max_output_tokens: 8192,
        price: { input: 3, output: 15, cached_input: 0.3 },
        capabilities: CAPS,
      },
      {
        id: 'ge-model',
        provider: 'ge',
        upstream: 'gemini-up',
        context_window: 1000000,
        max_output_tokens: 8192,
        price: { input: 0.5, output: 1.5 },
        capabilities: CAPS,
      },
    ],
    ...extra,
  };
}

/** The three provider types, for suites that run the same assertions against each. */
export const PROVIDERS = [
  { type: 'openai', model: 'oa-model', fake: 'openai', upstream: 'gpt-up' },
  { type: 'anthropic', model: 'an-model', fake: 'anthropic', upstream: 'claude-up' },
  { type: 'gemini', model: 'ge-model', fake: 'gemini', upstream: 'gemini-up' },
] as const;

/**
 * One OpenAI-compatible provider `up` at a fake's URL and one model `priced` on it (100K context, 4K
 * output, streaming), at `price` USD per 1M tokens: what the budget suites price their holds on.
 */
export function pricedUpstream(
  url: string,
  price: { input: number; output: number },
): { providers: unknown[]; models: Record<string, unknown>[] } {
  return {
    providers: [{ id: 'up', type: 'openai', base_url: `${url}/v1`, api_key: 'k', max_retries: 0 }],
    models: [
      {
        id: 'priced',
        provider: 'up',
        context_window: 100_000,
        max_output_tokens: 4_000,
        price,
        capabilities: ['streaming'],
      },
    ],
  };
}
