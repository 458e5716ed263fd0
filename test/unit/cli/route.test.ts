import { afterAll, describe, expect, it } from 'vitest';
import { quorum, scratch } from './helpers.ts';

const dir = scratch();
afterAll(() => dir.cleanup());

const config = dir.file(
  'route.yaml',
  [
    'providers:',
    '  - { id: up, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: k }',
    'models:',
    '  - { id: small, provider: up, context_window: 8000, max_output_tokens: 2000, price: { input: 0.1, output: 0.4 }, capabilities: [json, streaming], quality: { general: 0.6 } }',
    '  - { id: large, provider: up, context_window: 200000, max_output_tokens: 8000, price: { input: 3, output: 15 }, capabilities: [tools, json, streaming], quality: { general: 0.95 } }',
  ].join('\n'),
);

describe('quorum route', () => {
  it('prints the decision as a table: chosen model, fallbacks and each candidate', () => {
    const body = dir.file(
      'greet.json',
      JSON.stringify({ model: 'auto:cost', messages: [{ role: 'user', content: 'hi' }] }),
    );
    const run = quorum(['route', '--config', config, '--body', body]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^policy cost → small, then large/);
    expect(run.stdout).toMatch(/\nsmall\s+0\.600/);
    expect(run.stdout).toContain('\nwhy: both clear the bar 0.45; `small` is 77× cheaper than `large`\n');
  });

  it('prints JSON with --json, including the exclusion reasons', () => {
    const body = dir.file(
      'tools.json',
      JSON.stringify({
        model: 'auto:cost',
        messages: [{ role: 'user', content: 'look it up' }],
        tools: [{ type: 'function', function: { name: 'lookup' } }],
      }),
    );
    const run = quorum(['route', '--config', config, '--body', body, '--json']);
    expect(run.status).toBe(0);
    const decision = JSON.parse(run.stdout);
    expect(decision.chosen).toBe('large');
    expect(decision.why).toBe('`large` is the only model that can serve this request (1 excluded)');
    expect(decision.candidates.find((c: { model: string }) => c.model === 'small')).toMatchObject({
      eligible: false,
      reason: expect.stringContaining('tools'),
    });
  });

  it('refuses an invalid body with the path of the problem and exit code 2', () => {
    const body = dir.file(
      'bad.json',
      JSON.stringify({ model: 'auto', messages: [{ role: 'wizard', content: 'x' }] }),
    );
    const run = quorum(['route', '--config', config, '--body', body]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^messages\[0\]\.role: /m);
  });

  it('requires --body and says how to use it', () => {
    const run = quorum(['route', '--config', config]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--body/);
  });

  it('exits 1 naming the problem for an unknown model', () => {
    const body = dir.file(
      'unknown.json',
      JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    );
    const run = quorum(['route', '--config', config, '--body', body]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/`nope` does not exist/);
  });
});
