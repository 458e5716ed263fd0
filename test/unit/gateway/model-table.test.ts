import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../../routing/types.ts';
import { ModelTable } from '../../../src/gateway/deployments/index.ts';

function spec(id: string, provider: string, aliases: string[] = [], weight = 1): ModelSpec {
  return {
    id,
    provider,
    upstream: id,
    context_window: 1000,
    max_output_tokens: 100,
    price: { input: 1, output: 2 },
    capabilities: ['streaming'],
    quality: { general: 0.5, code: 0.5, math: 0.5, reasoning: 0.5, writing: 0.5 },
    aliases,
    weight,
  };
}

describe('ModelTable', () => {
  const mini = spec('gpt-mini', 'openai', ['mini', 'small']);
  const haiku = spec('claude-haiku', 'anthropic', ['haiku']);
  const miniAzure = spec('gpt-mini', 'azure', ['mini'], 3);
  const table = new ModelTable([mini, haiku, miniAzure]);

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'knows nothing called %s (no name is inherited from Object.prototype)',
    (name) => {
      expect(table.resolve(name)).toEqual([]);
    },
  );

  it('resolves an id to its deployment', () => {
    expect(table.resolve('claude-haiku')).toEqual([haiku]);
  });

  it('resolves an alias to the model it names', () => {
    expect(table.resolve('haiku')).toEqual([haiku]);
    expect(table.resolve('small')).toEqual([mini]);
  });

  it('resolves an id shared by several entries to every deployment, in table order', () => {
    expect(table.resolve('gpt-mini')).toEqual([mini, miniAzure]);
    expect(table.resolve('gpt-mini').map((m) => m.provider)).toEqual(['openai', 'azure']);
  });

  it('resolves a shared alias to every deployment without duplicates', () => {
    expect(table.resolve('mini')).toEqual([mini, miniAzure]);
  });

  it('resolves an unknown name to nothing', () => {
    expect(table.resolve('gpt-maxi')).toEqual([]);
    expect(table.resolve('')).toEqual([]);
  });

  it('is case-sensitive, like the names clients send', () => {
    expect(table.resolve('GPT-MINI')).toEqual([]);
  });

  it('lists distinct ids in table order', () => {
    expect(table.ids()).toEqual(['gpt-mini', 'claude-haiku']);
  });

  it('an empty table resolves nothing and lists no ids', () => {
    const empty = new ModelTable([]);
    expect(empty.ids()).toEqual([]);
    expect(empty.resolve('anything')).toEqual([]);
  });
});
