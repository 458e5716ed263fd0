import { afterAll, describe, expect, it } from 'vitest';
import { BAD_CONFIG, cleanEnv, quorum, scratch } from './helpers.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());
const BAD = tmp.file('bad.yaml', BAD_CONFIG);
const GOOD = tmp.file(
  'good.yaml',
  [
    'providers:',
    '  - { id: demo, type: demo }',
    'ensembles:',
    '  panel: { strategy: consensus, models: [demo-fast, demo-smart] }',
    'teams:',
    '  - { id: research, budget: { limit_usd: 5 } }',
    'keys:',
    '  - { key: sk-research-0001, team: research }',
    '',
  ].join('\n'),
);

describe('quorum validate', () => {
  it('on a bad config exits 2 and prints one line per problem, each with its path', () => {
    const r = quorum(['validate', BAD]);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^models\[2\]\.price\.input: .*expected number/),
        expect.stringMatching(/^providers\[1\]\.id: .*duplicate/),
        expect.stringMatching(/^keys\[0\]\.team: .*"nobody"/),
      ]),
    );
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it('on a good config exits 0 and prints a summary', () => {
    const r = quorum(['validate', GOOD]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(GOOD);
    expect(r.stdout).toContain('valid');
    expect(r.stdout).toMatch(/1 provider/);
    expect(r.stdout).toMatch(/4 model/);
    expect(r.stdout).toMatch(/1 ensemble/);
    expect(r.stdout).toMatch(/1 team/);
    expect(r.stdout).toMatch(/1 key/);
  });

  it('on a YAML syntax error exits 2 naming the file', () => {
    const r = quorum(['validate', tmp.file('syntax.yaml', 'providers: [\n  { id: a\n')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('syntax.yaml');
  });

  it('on a missing file exits 2 naming the file', () => {
    const r = quorum(['validate', `${tmp.dir}/missing.yaml`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('missing.yaml');
  });

  it('reads QUORUM_CONFIG when no file is given', () => {
    const r = quorum(['validate'], cleanEnv({ QUORUM_CONFIG: BAD }));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^models\[2\]\.price\.input: /m);
  });

  it('with no file and no keys reports the demo fallback', () => {
    const r = quorum(['validate'], cleanEnv(), tmp.dir); // no config/quorum.yaml in that directory
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/demo/);
  });

  it('checks a workflow file: its structure and every model it names, against the configuration', () => {
    const fromRoot = quorum(['validate', 'examples/workflows/plan-then-execute.yaml']);
    expect(fromRoot.status, fromRoot.stderr).toBe(0);
    expect(fromRoot.stdout).toMatch(/is a valid workflow: plan-then-execute, 5 step\(s\)/);

    const typo = tmp.file(
      'typo.yaml',
      [
        'name: typo',
        'steps:',
        '  draft: { prompt: "Write.", model: demo-fast }',
        '  review: { type: review, needs: [draft], prompt: Review., reviewers: [demo-smrt] }',
        '',
      ].join('\n'),
    );
    const r = quorum(['validate', typo, '--config', GOOD]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^steps\.review\.reviewers: The model `demo-smrt` does not exist/m);

    const cycle = tmp.file(
      'cycle.yaml',
      'name: loop\nsteps:\n  a: { prompt: x, needs: [b] }\n  b: { prompt: y, needs: [a] }\n',
    );
    const c = quorum(['validate', cycle]);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/^steps\.\w\.needs: cycle/m);
  });
});
