/**
 * Hostile YAML in the config file: an alias bomb ("billion laughs") and nesting thousands deep are
 * reported as config problems (one line each, so `quorum serve` exits 2) instead of exhausting memory,
 * hanging or overflowing the stack.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { load, problemsOf, scratchDir } from './helpers.ts';

const scratch = scratchDir('quorum-hostile-yaml-');
afterAll(() => scratch.cleanup());

/** Nine levels of nine aliases each: 9^9 (387 million) strings once expanded. */
function aliasBomb(): string {
  const lines = ['a0: &a0 "lol"'];
  for (let i = 1; i <= 9; i++) {
    lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\nserver: { max_body_bytes: 1024 }\n`;
}

describe('hostile YAML in the config file', () => {
  it('an alias bomb is one config problem, not a hang', () => {
    const problems = problemsOf(() => load(scratch.write(aliasBomb())));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/alias/i);
  });

  it('a document nested 10,000 deep is one config problem naming the limit', () => {
    const deep = `server: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
    const problems = problemsOf(() => load(scratch.write(deep)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/nested deeper than \d+ levels/);
  });

  it('a few ordinary aliases still work', () => {
    const ok = scratch.write(
      [
        'teams:',
        '  - { id: a, limits: &limits { rpm: 10, tpm: 1000 } }',
        '  - { id: b, limits: *limits }',
      ].join('\n'),
    );
    expect(load(ok).teams.map((t) => t.limits)).toEqual([
      { rpm: 10, tpm: 1000 },
      { rpm: 10, tpm: 1000 },
    ]);
  });
});
