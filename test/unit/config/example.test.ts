import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CATALOG_PATH } from '../../../src/config/index.ts';
import { load, problemsOf } from './helpers.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../../config/quorum.example.yaml');
const KEYS = { OPENAI_API_KEY: 'sk-openai', ANTHROPIC_API_KEY: 'sk-ant', GEMINI_API_KEY: 'g-key' };
const catalog = (parse(readFileSync(CATALOG_PATH, 'utf8')) as { models: { id: string; price: unknown }[] })
  .models;

describe('config/quorum.example.yaml', () => {
  it('loads with the three provider keys set', () => {
    const cfg = load(EXAMPLE, KEYS);
    expect(cfg.providers.map((p) => [p.id, p.type])).toEqual([
      ['openai', 'openai'],
      ['anthropic', 'anthropic'],
      ['gemini', 'gemini'],
    ]);
    expect(cfg.providers.map((p) => p.api_key)).toEqual(['sk-openai', 'sk-ant', 'g-key']);
    expect(cfg.providers[0]!.base_url).toBe('https://api.openai.com/v1');
    expect(cfg.providers[0]!.max_retries).toBe(1);
    expect(cfg.routing.policy).toBe('balanced');
    expect(Object.keys(cfg.ensembles)).toEqual(['panel']);
    expect(cfg.teams[0]).toMatchObject({ id: 'research', budget: { limit_usd: 25, period: 'monthly' } });
    expect(cfg.teams[0]!.models?.length).toBeGreaterThan(0);
    expect(cfg.keys).toEqual([
      { key: 'sk-quorum-research-change-me', team: 'research', name: 'research-ci' },
    ]);
    expect(cfg.notes).toEqual([]);
  });

  it('only names models from the built-in catalog, which they inherit', () => {
    const cfg = load(EXAMPLE, KEYS);
    expect(cfg.models.length).toBeGreaterThanOrEqual(2);
    for (const m of cfg.models) {
      const entry = catalog.find((c) => c.id === m.id);
      expect(entry, m.id).toBeDefined();
      expect(m.context_window).toBeGreaterThan(0);
    }
  });

  it('takes its optional values from the environment', () => {
    const cfg = load(EXAMPLE, {
      ...KEYS,
      OPENAI_BASE_URL: 'http://127.0.0.1:9001/v1',
      OPENAI_MAX_RETRIES: '4',
      QUORUM_ROUTING_POLICY: 'cost',
      RESEARCH_KEY: 'sk-research-from-env',
    });
    expect(cfg.providers[0]!.base_url).toBe('http://127.0.0.1:9001/v1');
    expect(cfg.providers[0]!.max_retries).toBe(4);
    expect(cfg.routing.policy).toBe('cost');
    expect(cfg.keys[0]!.key).toBe('sk-research-from-env');
  });

  it('refuses to load without the provider keys, naming each missing one', () => {
    const problems = problemsOf(() => load(EXAMPLE, {}));
    expect(problems).toEqual([
      expect.stringMatching(/^providers\[0\]\.api_key: .*OPENAI_API_KEY/),
      expect.stringMatching(/^providers\[1\]\.api_key: .*ANTHROPIC_API_KEY/),
      expect.stringMatching(/^providers\[2\]\.api_key: .*GEMINI_API_KEY/),
    ]);
  });
});
