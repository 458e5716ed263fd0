/**
 * How a fan-out's members become candidates: names as before, self-ensemble entries as several
 * samples at their temperatures, `samples` / `temperatures` beside `models` as defaults — and the
 * shapes that cannot be read refused with the field that is wrong.
 */
import { describe, expect, it } from 'vitest';
import { expandMembers, QuorumOptionsSchema } from '../../../src/chat/index.ts';

describe('expandMembers', () => {
  it('names stay one candidate each, with no temperature', () => {
    expect(expandMembers(['a', 'b', 'a']).samples).toEqual([
      { model: 'a', member: 0 },
      { model: 'b', member: 1 },
      { model: 'a', member: 2 },
    ]);
  });

  it('temperatures alone make one sample per temperature, for every named model', () => {
    const { samples } = expandMembers(['a', 'b'], { temperatures: [0.2, 1.0] });
    expect(samples.map((s) => [s.model, s.temperature])).toEqual([
      ['a', 0.2],
      ['a', 1.0],
      ['b', 0.2],
      ['b', 1.0],
    ]);
  });

  it('an entry’s own fields win over the defaults; one temperature serves every sample', () => {
    const { samples } = expandMembers(
      [{ model: 'a', samples: 3, temperature: 0.9 }, { model: 'b', temperatures: [0, 2] }, 'c'],
      { samples: 2 },
    );
    expect(samples.map((s) => [s.model, s.temperature, s.member])).toEqual([
      ['a', 0.9, 0],
      ['a', 0.9, 0],
      ['a', 0.9, 0],
      ['b', 0, 1],
      ['b', 2, 1],
      ['c', undefined, 2],
      ['c', undefined, 2],
    ]);
  });

  it('samples without temperatures are n samples at the request’s temperature', () => {
    expect(expandMembers([{ model: 'a', samples: 2 }]).samples).toEqual([
      { model: 'a', member: 0 },
      { model: 'a', member: 0 },
    ]);
  });

  it('a count the temperatures do not match is a problem naming the member', () => {
    expect(expandMembers([{ model: 'a', samples: 2 }], { temperatures: [0.1, 0.2, 0.3] }).problems).toEqual([
      { path: '[0].samples', message: '3 temperatures for 2 samples: give one per sample (or one for all)' },
    ]);
  });
});

describe('quorum.ensemble sampling fields', () => {
  const parse = (ensemble: Record<string, unknown>) =>
    QuorumOptionsSchema.safeParse({ ensemble: { strategy: 'consensus', ...ensemble } });

  it('accept names, entries, and defaults beside them', () => {
    expect(parse({ models: ['a', { model: 'b', samples: 2, temperatures: [0.1, 0.9] }] }).success).toBe(true);
    expect(parse({ models: ['a'], samples: 3, temperatures: [0.2, 0.7, 1] }).success).toBe(true);
    expect(parse({ strategy: 'fusion', models: ['a'], judge: 'j', synthesizer: 's' }).success).toBe(true);
  });

  it.each([
    [{ models: [{ model: 'a', temperature: 0.1, temperatures: [0.2] }] }, 'models.0.temperatures'],
    [{ models: [{ model: 'a', samples: 2, temperatures: [0.1, 0.2, 0.3] }] }, 'models.0.temperatures'],
    [{ models: ['a'], samples: 2, temperatures: [0.1, 0.2, 0.3] }, 'temperatures'],
    [{ models: [{ model: 'a', samples: 17 }] }, 'models.0'],
    [{ models: [{ model: 'a', temperature: 2.5 }] }, 'models.0'],
    [{ models: [{ model: 'a', top_k: 3 }] }, 'models.0'],
  ])('refuse %j at %s', (ensemble, path) => {
    const r = parse(ensemble);
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.slice(1).join('.'));
    expect(paths.some((p) => p === path || p.startsWith(`${path}`))).toBe(true);
  });
});
