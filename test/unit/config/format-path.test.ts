import { describe, expect, it } from 'vitest';
import { formatPath } from '../../../src/config/format-path.ts';

describe('formatPath', () => {
  it('renders keys with dots and indices with brackets', () => {
    expect(formatPath(['models', 2, 'price', 'input'])).toBe('models[2].price.input');
    expect(formatPath(['teams', 0, 'models', 3])).toBe('teams[0].models[3]');
    expect(formatPath(['routing', 'fallbacks', 'gpt-4o'])).toBe('routing.fallbacks.gpt-4o');
  });

  it('handles a leading index and consecutive indices', () => {
    expect(formatPath([0, 'id'])).toBe('[0].id');
    expect(formatPath(['matrix', 1, 2])).toBe('matrix[1][2]');
  });

  it('names the root when the path is empty', () => {
    expect(formatPath([])).toBe('(root)');
  });
});
