import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatPath } from '../../../src/config/format-path.ts';
import { CATALOG_PATH, loadCatalog } from '../../../src/config/index.ts';
import { ModelSchema } from '../../../src/config/schema.ts';

const raw = parse(readFileSync(CATALOG_PATH, 'utf8')) as {
  prices_read?: unknown;
  models: Record<string, unknown>[];
};
const models = raw.models;

describe('config/models.yaml (the built-in catalog)', () => {
  it('is what loadCatalog returns', () => {
    expect(loadCatalog().map((m) => m.id)).toEqual(models.map((m) => m.id));
  });

  it('every entry passes ModelSchema', () => {
    const problems: string[] = [];
    models.forEach((m, i) => {
      const r = ModelSchema.safeParse(m);
      if (!r.success)
        for (const issue of r.error.issues)
          problems.push(`models[${i}] (${String(m.id)}) ${formatPath(issue.path)}: ${issue.message}`);
    });
    expect(problems).toEqual([]);
  });

  it('has at least three models for each of openai, anthropic and gemini, and no other provider', () => {
    for (const type of ['openai', 'anthropic', 'gemini']) {
      expect(models.filter((m) => m.provider === type).length, type).toBeGreaterThanOrEqual(3);
    }
    expect(new Set(models.map((m) => m.provider))).toEqual(new Set(['openai', 'anthropic', 'gemini']));
  });

  it('has non-negative prices, and a cached price no higher than the input price', () => {
    for (const m of models) {
      const price = m.price as { input: number; output: number; cached_input?: number };
      expect(price.input, String(m.id)).toBeGreaterThanOrEqual(0);
      expect(price.output, String(m.id)).toBeGreaterThanOrEqual(0);
      if (price.cached_input !== undefined) {
        expect(price.cached_input, String(m.id)).toBeGreaterThanOrEqual(0);
        expect(price.cached_input, String(m.id)).toBeLessThanOrEqual(price.input);
      }
    }
  });

  it('records the date its prices were read', () => {
    expect(typeof raw.prices_read).toBe('string');
    expect(raw.prices_read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(raw.prices_read as string))).toBe(false);
  });

  it('has unique ids, and aliases that are unique and never another id', () => {
    const ids = models.map((m) => m.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    const aliases = models.flatMap((m) => (m.aliases as string[] | undefined) ?? []);
    expect(new Set(aliases).size).toBe(aliases.length);
    for (const a of aliases) expect(ids, `alias ${a}`).not.toContain(a);
  });

  it('every chat model can at least stream', () => {
    const chat = models.filter((m) => !(m.capabilities as string[]).includes('embeddings'));
    expect(chat.length).toBeGreaterThan(0);
    for (const m of chat) expect(m.capabilities, String(m.id)).toContain('streaming');
  });

  it('has embedding models for openai and gemini only (Anthropic has no embeddings API), priced per input token', () => {
    const embedding = models.filter((m) => (m.capabilities as string[]).includes('embeddings'));
    expect(embedding.map((m) => m.id)).toEqual([
      'text-embedding-3-small',
      'text-embedding-3-large',
      'gemini-embedding-001',
    ]);
    for (const m of embedding) {
      expect(m.capabilities, String(m.id)).toEqual(['embeddings']);
      expect((m.price as { output: number }).output, String(m.id)).toBe(0);
      expect(m.provider).not.toBe('anthropic');
    }
  });
});
