/** Embedding models in the configuration: what a file may declare, and what the loader refuses. */
import { afterAll, describe, expect, it } from 'vitest';
import { at, load, problemsOf, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const PROVIDERS = [
  'providers:',
  '  - { id: oa, type: openai, api_key: sk-test }',
  '  - { id: an, type: anthropic, api_key: sk-ant }',
  '  - { id: ge, type: gemini, api_key: g-test }',
];

describe('embedding models in the configuration', () => {
  it('need no max_output_tokens; a chat model still does', () => {
    const path = scratch.write(
      [
        ...PROVIDERS,
        'models:',
        '  - { id: embed, provider: oa, context_window: 8191, price: { input: 0.02, output: 0 }, capabilities: [embeddings] }',
        '  - { id: chat, provider: oa, context_window: 8191, price: { input: 1, output: 2 } }',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'models[0].max_output_tokens')).toEqual([]);
    expect(at(problems, 'models[1].max_output_tokens')[0]).toMatch(/required .*embedding model/);
  });

  it('inherit the catalog entry by id, priced per input token', () => {
    const path = scratch.write(
      [...PROVIDERS, 'models:', '  - { id: text-embedding-3-small, provider: oa }'].join('\n'),
    );
    const [spec] = load(path).models;
    expect(spec).toMatchObject({
      id: 'text-embedding-3-small',
      capabilities: ['embeddings'],
      price: { input: 0.02, output: 0 },
      max_output_tokens: 0,
    });
  });

  it('refuses one on an anthropic provider, and chains or presets mixing embedding and chat models', () => {
    const path = scratch.write(
      [
        ...PROVIDERS,
        'models:',
        '  - { id: text-embedding-3-small, provider: oa }',
        '  - { id: text-embedding-3-large, provider: oa }',
        '  - { id: claude-embed, provider: an, context_window: 8000, price: { input: 1, output: 0 }, capabilities: [embeddings] }',
        '  - { id: gpt-6-luna, provider: oa }',
        'routing:',
        '  fallbacks:',
        '    text-embedding-3-small: [text-embedding-3-large, gpt-6-luna]',
        '    gpt-6-luna: [text-embedding-3-small]',
        'ensembles:',
        '  panel: { strategy: consensus, models: [gpt-6-luna, text-embedding-3-large], judge: text-embedding-3-small }',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'models[2].capabilities')[0]).toMatch(/Anthropic has no embeddings API/);
    // An embedding model may fall back to another embedding model (the operator's choice), not to chat.
    expect(at(problems, 'routing.fallbacks.text-embedding-3-small[0]')).toEqual([]);
    expect(at(problems, 'routing.fallbacks.text-embedding-3-small[1]')[0]).toMatch(/chat model/);
    expect(at(problems, 'routing.fallbacks.gpt-6-luna[0]')[0]).toMatch(/embedding model/);
    expect(at(problems, 'ensembles.panel.models[0]')).toEqual([]);
    expect(at(problems, 'ensembles.panel.models[1]')[0]).toMatch(/embedding model; it cannot answer chat/);
    expect(at(problems, 'ensembles.panel.judge')[0]).toMatch(/embedding model/);
  });

  it('the environment-key catalog serves the embedding models of each enabled provider', () => {
    const path = scratch.write('{}\n');
    const ids = load(path, { OPENAI_API_KEY: 'sk-x', GEMINI_API_KEY: 'g-x' }).models.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining(['text-embedding-3-small', 'text-embedding-3-large', 'gemini-embedding-001']),
    );
  });
});
