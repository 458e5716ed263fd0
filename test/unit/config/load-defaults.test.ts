import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CATALOG_PATH, loadConfig } from '../../../src/config/index.ts';
import { DEMO_MODELS } from '../../../src/providers/demo/models.ts';
import { load, scratchDir } from './helpers.ts';

interface CatalogEntry {
  id: string;
  provider: string;
  upstream?: string;
  context_window: number;
  max_output_tokens: number;
  price: { input: number; output: number; cached_input?: number };
  capabilities?: string[];
  quality?: Record<string, number>;
  aliases?: string[];
}

const catalog = (parse(readFileSync(CATALOG_PATH, 'utf8')) as { models: CatalogEntry[] }).models;
const ofType = (type: string) => catalog.filter((c) => c.provider === type);

const scratch = scratchDir();
// Loading without a path falls back to ./config/quorum.yaml when it exists: run those cases in an
// empty directory so a developer's own config cannot change the outcome.
const cwd = process.cwd();
let emptyDir: string;
beforeAll(() => {
  emptyDir = mkdtempSync(join(tmpdir(), 'quorum-nocfg-'));
  process.chdir(emptyDir);
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(emptyDir, { recursive: true, force: true });
  scratch.cleanup();
});

/** The documented `server` defaults, with or without a config file. */
const SERVER_DEFAULTS = {
  max_body_bytes: 10485760,
  request_timeout_ms: 120000,
  headers_timeout_ms: 10000,
  body_timeout_ms: 30000,
  keep_alive_timeout_ms: 5000,
  drain_delay_ms: 0,
  drain_timeout_ms: 30000,
  max_json_depth: 64,
  cors: { origins: [] },
  allowed_hosts: [],
};

describe('no config file', () => {
  it('with no provider keys serves the demo provider and its models, and says so', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.source).toBeNull();
    expect(cfg.providers).toHaveLength(1);
    expect(cfg.providers[0]).toMatchObject({ id: 'demo', type: 'demo' });
    expect(cfg.models.map((m) => m.id)).toEqual(DEMO_MODELS.map((m) => m.id));
    expect(cfg.models.every((m) => m.provider === 'demo')).toBe(true);
    expect(cfg.models.flatMap((m) => m.aliases)).toContain('demo');
    expect(cfg.notes.join('\n')).toMatch(/demo/);
    expect(cfg.notes.join('\n')).toContain('OPENAI_API_KEY');
  });

  it('with only OPENAI_API_KEY enables provider openai with the catalog OpenAI models', () => {
    const cfg = loadConfig({ env: { OPENAI_API_KEY: 'sk-only-openai' } });
    expect(cfg.providers.map((p) => [p.id, p.type, p.api_key])).toEqual([
      ['openai', 'openai', 'sk-only-openai'],
    ]);
    const expected = ofType('openai');
    expect(expected.length).toBeGreaterThan(0);
    expect(cfg.models.map((m) => m.id)).toEqual(expected.map((e) => e.id));
    for (const m of cfg.models) {
      const entry = expected.find((e) => e.id === m.id)!;
      expect(m.provider).toBe('openai');
      expect(m.price).toEqual(entry.price);
      expect(m.context_window).toBe(entry.context_window);
      expect(m.upstream).toBe(entry.upstream ?? entry.id);
    }
    expect(cfg.notes.join('\n')).toContain('openai');
    expect(cfg.notes.join('\n')).not.toMatch(/demo provider/);
  });

  it('with all three keys enables openai, anthropic and gemini with every catalog model', () => {
    const cfg = loadConfig({ env: { OPENAI_API_KEY: 'a', ANTHROPIC_API_KEY: 'b', GEMINI_API_KEY: 'c' } });
    expect(cfg.providers.map((p) => [p.id, p.type, p.api_key])).toEqual([
      ['openai', 'openai', 'a'],
      ['anthropic', 'anthropic', 'b'],
      ['gemini', 'gemini', 'c'],
    ]);
    expect(cfg.models.map((m) => m.id).sort()).toEqual(catalog.map((c) => c.id).sort());
    for (const m of cfg.models) expect(m.provider).toBe(catalog.find((c) => c.id === m.id)!.provider);
  });

  it('an empty key does not enable a provider', () => {
    const cfg = loadConfig({ env: { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: 'sk-ant' } });
    expect(cfg.providers.map((p) => p.id)).toEqual(['anthropic']);
    expect(cfg.models.map((m) => m.id)).toEqual(ofType('anthropic').map((c) => c.id));
  });

  it('applies OPENAI_BASE_URL to the environment-enabled provider', () => {
    const cfg = loadConfig({ env: { OPENAI_API_KEY: 'sk', OPENAI_BASE_URL: 'http://127.0.0.1:9001/v1' } });
    expect(cfg.providers[0]!.base_url).toBe('http://127.0.0.1:9001/v1');
  });

  it('applies the documented defaults', () => {
    const cfg = loadConfig({ env: { OPENAI_API_KEY: 'sk' } });
    expect(cfg.server).toEqual(SERVER_DEFAULTS);
    expect(cfg.routing).toEqual({
      policy: 'balanced',
      fallbacks: {},
      learning: {
        enabled: true,
        min_observations: 20,
        half_life_days: 30,
        prior_strength: 50,
        refresh_seconds: 30,
        feedback_window_days: 7,
      },
    });
    expect(cfg.providers[0]).toMatchObject({ max_retries: 1, timeout_ms: 60000 });
    expect(cfg.ensembles).toEqual({});
    expect(cfg.teams).toEqual([]);
    expect(cfg.keys).toEqual([]);
  });
});

describe('config file with providers and models', () => {
  it('applies provider and server defaults to a minimal file', () => {
    const path = scratch.write('providers:\n  - { id: openai, type: openai, api_key: sk }\n');
    const cfg = load(path);
    expect(cfg.server).toEqual(SERVER_DEFAULTS);
    expect(cfg.routing.policy).toBe('balanced');
    expect(cfg.providers[0]).toMatchObject({ max_retries: 1, timeout_ms: 60000 });
  });

  it('a team budget period defaults to monthly', () => {
    const path = scratch.write('teams:\n  - { id: t, budget: { limit_usd: 10 } }\n');
    expect(load(path).teams[0]!.budget).toEqual({ limit_usd: 10, period: 'monthly' });
  });

  it('file providers win over environment keys', () => {
    const path = scratch.write('providers:\n  - { id: claude, type: anthropic, api_key: sk-file }\n');
    const cfg = load(path, { OPENAI_API_KEY: 'sk-env', GEMINI_API_KEY: 'g-env' });
    expect(cfg.providers.map((p) => p.id)).toEqual(['claude']);
    expect(cfg.notes).toEqual([]);
  });

  it('a file without providers still uses environment keys', () => {
    const path = scratch.write('routing: { policy: cost }\n');
    const cfg = load(path, { GEMINI_API_KEY: 'g' });
    expect(cfg.providers.map((p) => p.id)).toEqual(['gemini']);
    expect(cfg.models.map((m) => m.id)).toEqual(ofType('gemini').map((c) => c.id));
  });

  it('providers but no models → catalog models of each provider type, bound to that provider id', () => {
    const path = scratch.write(
      'providers:\n  - { id: oai-main, type: openai, api_key: a }\n  - { id: claude, type: anthropic, api_key: b }\n',
    );
    const cfg = load(path);
    const expected = [
      ...ofType('openai').map((c) => [c.id, 'oai-main']),
      ...ofType('anthropic').map((c) => [c.id, 'claude']),
    ];
    expect(cfg.models.map((m) => [m.id, m.provider])).toEqual(expected);
    expect(cfg.models.some((m) => ofType('gemini').some((g) => g.id === m.id))).toBe(false);
  });

  it('a models entry with only id and provider inherits the catalog entry', () => {
    const entry = ofType('anthropic')[0]!;
    const path = scratch.write(
      `providers:\n  - { id: claude, type: anthropic, api_key: b }\nmodels:\n  - { id: ${entry.id}, provider: claude }\n`,
    );
    const [m] = load(path).models;
    expect(m!.id).toBe(entry.id);
    expect(m!.provider).toBe('claude');
    expect(m!.price).toEqual(entry.price);
    expect(m!.context_window).toBe(entry.context_window);
    expect(m!.max_output_tokens).toBe(entry.max_output_tokens);
    expect(m!.capabilities).toEqual(entry.capabilities);
    expect(m!.aliases).toEqual(entry.aliases ?? []);
    for (const [category, value] of Object.entries(entry.quality ?? {}))
      expect(m!.quality[category as 'general']).toBe(value);
  });

  it('an entry that overrides price keeps its own price and inherits the rest', () => {
    const entry = ofType('openai')[0]!;
    const path = scratch.write(
      `providers:\n  - { id: openai, type: openai, api_key: a }\nmodels:\n` +
        `  - { id: ${entry.id}, provider: openai, price: { input: 0.5, output: 1.5 }, upstream: my-deployment }\n`,
    );
    const [m] = load(path).models;
    expect(m!.price).toEqual({ input: 0.5, output: 1.5 });
    expect(m!.upstream).toBe('my-deployment');
    expect(m!.context_window).toBe(entry.context_window);
    expect(m!.capabilities).toEqual(entry.capabilities);
  });

  it('a demo model id inherits the demo model fields', () => {
    const smart = DEMO_MODELS.find((d) => d.id === 'demo-smart')!;
    const path = scratch.write(
      'providers:\n  - { id: demo, type: demo }\nmodels:\n  - { id: demo-smart, provider: demo }\n',
    );
    const [m] = load(path).models;
    expect(m!.price).toEqual(smart.price);
    expect(m!.context_window).toBe(smart.context_window);
  });

  it('a custom model needs its own table fields, and gets upstream = id and quality filled from general', () => {
    const path = scratch.write(
      [
        'providers:',
        '  - { id: local, type: openai, base_url: "http://127.0.0.1:11434/v1" }',
        'models:',
        '  - { id: llama-local, provider: local, context_window: 8192, max_output_tokens: 2048,',
        '      price: { input: 0, output: 0 }, quality: { general: 0.4, code: 0.3 } }',
        '  - { id: bare, provider: local, context_window: 100, max_output_tokens: 10, price: { input: 1, output: 2 } }',
        '',
      ].join('\n'),
    );
    const [llama, bare] = load(path).models;
    expect(llama!.upstream).toBe('llama-local');
    expect(llama!.quality).toEqual({ general: 0.4, code: 0.3, math: 0.4, reasoning: 0.4, writing: 0.4 });
    expect(llama!.capabilities).toEqual([]);
    expect(llama!.weight).toBe(1);
    expect(bare!.quality).toEqual({ general: 0.5, code: 0.5, math: 0.5, reasoning: 0.5, writing: 0.5 });
  });
});
