import { afterAll, describe, expect, it } from 'vitest';
import { BAD_CONFIG, quorum, scratch } from './helpers.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());
const BAD = tmp.file('bad.yaml', BAD_CONFIG);

describe('quorum serve', () => {
  it('with a bad config exits 2 with the problems, without listening', () => {
    const r = quorum(['serve', '--config', BAD, '--port', '0']);
    expect(r.error).toBeUndefined(); // did not time out
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^models\[2\]\.price\.input: /m);
    expect(r.stderr).toMatch(/^providers\[1\]\.id: /m);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/listening/i);
  });
});
