import { describe, expect, it } from 'vitest';
import { repeatQuiet } from '../../../src/boot/repeat-quiet.ts';

describe('repeatQuiet', () => {
  it('reports a repeating error once per quiet period, with how many it held back', () => {
    let t = 0;
    const lines: string[] = [];
    const report = repeatQuiet(
      (err, repeated) => lines.push(`${(err as Error).message}:${repeated}`),
      1000,
      () => t,
    );
    for (let i = 0; i < 5; i++) {
      report(new Error('connect ECONNREFUSED'));
      t += 100;
    }
    expect(lines).toEqual(['connect ECONNREFUSED:0']);
    t = 1000;
    report(new Error('connect ECONNREFUSED'));
    expect(lines).toEqual(['connect ECONNREFUSED:0', 'connect ECONNREFUSED:4']);
  });

  it('reports a different message at once', () => {
    const lines: string[] = [];
    const report = repeatQuiet(
      (err) => lines.push(String(err)),
      1000,
      () => 0,
    );
    report('a');
    report('b');
    report('a');
    expect(lines).toEqual(['a', 'b']);
  });
});
