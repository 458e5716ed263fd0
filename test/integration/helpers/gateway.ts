/**
 * Starts the real gateway (config file → loadConfig → Gateway → Hono app → node server) on a free
 * 127.0.0.1 port, with its logs captured for assertions. Tests talk to it through the official
 * `openai` SDK or plain fetch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { loadConfig } from '../../../src/config/index.ts';
import { Gateway, type GatewayOptions } from '../../../src/gateway/index.ts';
import { type AppOptions, createApp } from '../../../src/server/app.ts';
import { listen } from '../../../src/server/listen.ts';
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
  close(): Promise<void>;
}

export async function startGateway(
  config: Record<string, unknown>,
  options: {
    env?: NodeJS.ProcessEnv;
    masterKey?: string;
    gateway?: GatewayOptions;
    /** Extra app services (a store, the workflow engine), built against the started gateway. */
    app?: (gateway: Gateway) => Partial<Pick<AppOptions, 'store' | 'workflows'>>;
  } = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-test-'));
  const path = join(dir, 'quorum.yaml');
  writeFileSync(path, stringify(config));
  const gatewayConfig = loadConfig({ path, env: options.env ?? {} });

  let logText = '';
  const destination = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const gateway = await Gateway.create(gatewayConfig, {
    onWarn: (message, fields) => logger.warn(fields, message),
    ...options.gateway,
  });

  const { app } = createApp({
    gateway,
    logger,
    ...(options.masterKey ? { masterKey: options.masterKey } : {}),
    ...options.app?.(gateway),
  });
  const server = await listen(app.fetch, { port: 0, hostname: '127.0.0.1', timeouts: gatewayConfig.server });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    client: (apiKey = 'unused') => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 }),
    logs: () => logText,
    close: async () => {
      await gateway.close();
      await new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections(): void }).closeAllConnections();
        server.close(() => resolve());
      });
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
