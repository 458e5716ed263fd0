import { afterAll, describe, expect, it } from 'vitest';
import { quorum, scratch } from './helpers.ts';

const dir = scratch();
afterAll(() => dir.cleanup());

describe('quorum graph', () => {
  it('draws an example workflow as Mermaid, and as DOT with --format dot', () => {
    const mermaid = quorum(['graph', 'examples/workflows/hometown-distance.yaml']);
    expect(mermaid.status).toBe(0);
    expect(mermaid.stdout).toMatch(/^flowchart TD/);
    expect(mermaid.stdout).toMatch(/town_a --> distance/);
    const dot = quorum(['graph', 'examples/workflows/hometown-distance.yaml', '--format', 'dot']);
    expect(dot.stdout).toMatch(/^digraph/);
  });

  it('refuses a cyclic workflow with one line per problem and exit code 2', () => {
    const file = dir.file(
      'cycle.yaml',
      'name: loop\nsteps:\n  a: { prompt: x, needs: [b] }\n  b: { prompt: y, needs: [a] }\n',
    );
    const run = quorum(['graph', file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^steps\.\w\.needs: cycle/m);
  });

  it('needs a file and says how to use it', () => {
    const run = quorum(['graph']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: quorum graph/);
  });
});
