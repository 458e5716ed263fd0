import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';
import { at, load, problemsOf, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const OPENAI = '  - { id: openai, type: openai, api_key: sk-test }\n';

describe('loadConfig: every problem, each naming its path', () => {
  it('reports all cross-reference and model problems of one file at once', () => {
    const path = scratch.write(
      [
        'providers:',
        OPENAI.trimEnd(),
        '  - { id: openai, type: anthropic, api_key: sk-ant }',
        'models:',
        '  - { id: gpt-4o-mini, provider: openai, aliases: [mini] }',
        '  - { id: gpt-6-luna, provider: openai, aliases: [gpt-4o-mini] }',
        '  - { id: custom, provider: openai, context_window: 1000, max_output_tokens: 100,',
        '      price: { input: cheap, output: 0.4 } }',
        'routing:',
        '  fallbacks: { gpt-4o-mini: [gpt-6-luna, no-such-model], ghost: [mini] }',
        'ensembles:',
        '  panel: { strategy: consensus, models: [gpt-4o-mini, phantom], judge: nobody }',
        'teams:',
        '  - { id: research, models: [gpt-4o-mini, panel, unknown-thing] }',
        'keys:',
        '  - { key: sk-research-0001, team: research }',
        '  - { key: sk-research-0002, team: marketing }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));

    expect(at(problems, 'providers[1].id')).toHaveLength(1);
    expect(at(problems, 'providers[1].id')[0]).toContain('duplicate provider id "openai"');
    expect(at(problems, 'models[1].aliases[0]')).toHaveLength(1);
    expect(at(problems, 'models[1].aliases[0]')[0]).toContain('"gpt-4o-mini"');
    expect(at(problems, 'models[2].price.input')).toHaveLength(1);
    expect(at(problems, 'models[2].price.input')[0]).toMatch(/expected number/);
    expect(at(problems, 'routing.fallbacks.gpt-4o-mini[1]')[0]).toContain('"no-such-model"');
    expect(at(problems, 'routing.fallbacks.ghost')[0]).toContain('"ghost"');
    expect(at(problems, 'ensembles.panel.models[1]')[0]).toContain('"phantom"');
    expect(at(problems, 'ensembles.panel.judge')[0]).toContain('"nobody"');
    expect(at(problems, 'teams[0].models[2]')[0]).toContain('"unknown-thing"');
    expect(at(problems, 'keys[1].team')[0]).toContain('"marketing"');

    // Valid references are not reported.
    expect(at(problems, 'routing.fallbacks.gpt-4o-mini[0]')).toEqual([]);
    expect(at(problems, 'teams[0].models[0]')).toEqual([]);
    expect(at(problems, 'teams[0].models[1]')).toEqual([]);
    expect(at(problems, 'keys[0].team')).toEqual([]);
  });

  it('the thrown ConfigError message lists every problem line', () => {
    const path = scratch.write(
      'providers:\n  - { id: a, type: openai }\n  - { id: a, type: openai }\nkeys:\n  - { key: k-00000001, team: x }\n',
    );
    try {
      load(path);
      expect.unreachable('the config should not load');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.problems.length).toBe(2);
      for (const p of e.problems) expect(e.message).toContain(p);
    }
  });

  it('reports schema problems anywhere in the file, each with its path', () => {
    const path = scratch.write(
      [
        'server: { max_body_bytes: -5, request_timeout_ms: soon }',
        'providers:',
        '  - { id: "bad id!", type: mistral, base_url: not-a-url, timeout_ms: 0 }',
        'routing: { policy: cheapest }',
        'ensembles:',
        '  panel: { strategy: vote, models: [] }',
        'teams:',
        '  - { id: t, budget: { limit_usd: -1, period: hourly } }',
        'keys:',
        '  - { key: short, team: t }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    for (const p of [
      'server.max_body_bytes',
      'server.request_timeout_ms',
      'providers[0].id',
      'providers[0].type',
      'providers[0].base_url',
      'providers[0].timeout_ms',
      'routing.policy',
      'ensembles.panel.strategy',
      'ensembles.panel.models',
      'teams[0].budget.limit_usd',
      'teams[0].budget.period',
      'keys[0].key',
    ]) {
      expect(at(problems, p), `a problem at ${p} in:\n${problems.join('\n')}`).toHaveLength(1);
    }
    expect(at(problems, 'keys[0].key')[0]).toContain('at least 8 characters');
  });

  it('reports schema problems and model problems of the same file together', () => {
    // A user fixing a config should not discover the model problems only after fixing the server one.
    const path = scratch.write(
      [
        'server: { max_body_bytes: -5 }',
        'providers:',
        OPENAI.trimEnd(),
        'models:',
        '  - { id: gpt-4o-mini, provider: openai }',
        '  - { id: gpt-6-luna, provider: openai }',
        '  - { id: custom, provider: openai, context_window: 1000, max_output_tokens: 100, price: { input: x, output: 1 } }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'server.max_body_bytes')).toHaveLength(1);
    expect(at(problems, 'models[2].price.input')).toHaveLength(1);
  });

  it('names a model by its index in the file even when an earlier model is invalid', () => {
    const path = scratch.write(
      [
        'providers:',
        OPENAI.trimEnd(),
        'models:',
        '  - { id: gpt-4o-mini, provider: openai }',
        '  - { id: custom, provider: openai, context_window: 1000, max_output_tokens: 100, price: { input: x, output: 1 } }',
        '  - { id: gpt-6-luna, provider: nowhere }',
        '  - { id: gpt-6.2-sol, provider: openai, aliases: [gpt-4o-mini] }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'models[1].price.input')).toHaveLength(1);
    expect(at(problems, 'models[2].provider'), problems.join('\n')).toHaveLength(1);
    expect(at(problems, 'models[2].provider')[0]).toContain('"nowhere"');
    expect(at(problems, 'models[3].aliases[0]'), problems.join('\n')).toHaveLength(1);
  });

  it('rejects unknown keys at every level, naming the key', () => {
    const path = scratch.write(
      [
        'sever: { max_body_bytes: 1 }',
        'server: { max_body: 1 }',
        'providers:',
        '  - { id: openai, type: openai, apikey: sk-x }',
        'models:',
        '  - { id: gpt-4o-mini, provider: openai, prize: { input: 1, output: 1 } }',
        '  - { id: custom, provider: openai, context_window: 10, max_output_tokens: 10, price: { input: 1, output: 1, cache: 0.5 } }',
        'routing: { policy: cost, fallback: {} }',
        'teams:',
        '  - { id: t, budget: { limit_usd: 5, limit: 5 } }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    const text = problems.join('\n');
    expect(text).toContain('sever');
    expect(text).toContain('max_body');
    expect(text).toContain('apikey');
    expect(text).toContain('fallback');
    expect(text).toMatch(/^teams\[0\]\.budget: .*"limit"/m);
    expect(text).toMatch(/^providers\[0\]: .*"apikey"/m);
    expect(text).toMatch(/^server: .*"max_body"/m);
    expect(text).toMatch(/^\(root\): .*"sever"/m);
  });

  it('rejects unknown keys inside a model entry', () => {
    const path = scratch.write(
      [
        'providers:',
        OPENAI.trimEnd(),
        'models:',
        '  - { id: gpt-4o-mini, provider: openai, prize: { input: 1, output: 1 } }',
        '  - { id: custom, provider: openai, context_window: 10, max_output_tokens: 10, price: { input: 1, output: 1, cache: 0.5 } }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(problems.join('\n')).toMatch(/^models\[0\]: .*"prize"/m);
    expect(problems.join('\n')).toMatch(/^models\[1\]\.price: .*"cache"/m);
  });

  it('rejects an alias equal to another model id and an ensemble named like a model', () => {
    const path = scratch.write(
      [
        'providers:',
        OPENAI.trimEnd(),
        'models:',
        '  - { id: gpt-4o-mini, provider: openai, aliases: [gpt-6-luna] }',
        '  - { id: gpt-6-luna, provider: openai }',
        'ensembles:',
        '  gpt-4o-mini: { strategy: consensus, models: [gpt-6-luna] }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'models[0].aliases[0]')[0]).toContain('"gpt-6-luna" is already a model');
    expect(at(problems, 'ensembles.gpt-4o-mini')).toHaveLength(1);
  });

  it('rejects the same alias on two different models', () => {
    const path = scratch.write(
      [
        'providers:',
        OPENAI.trimEnd(),
        'models:',
        '  - { id: gpt-4o-mini, provider: openai, aliases: [cheap] }',
        '  - { id: gpt-6-luna, provider: openai, aliases: [cheap] }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'models[1].aliases[0]')).toHaveLength(1);
    expect(at(problems, 'models[1].aliases[0]')[0]).toContain('gpt-4o-mini');
  });

  it('allows several deployments of one id (load balancing) sharing their aliases', () => {
    const path = scratch.write(
      [
        'providers:',
        OPENAI.trimEnd(),
        '  - { id: openai-eu, type: openai, api_key: sk-eu, base_url: "https://eu.example.com/v1" }',
        'models:',
        '  - { id: gpt-4o-mini, provider: openai, aliases: [mini] }',
        '  - { id: gpt-4o-mini, provider: openai-eu, aliases: [mini], weight: 2 }',
        '',
      ].join('\n'),
    );
    const cfg = load(path);
    expect(cfg.models.map((m) => [m.id, m.provider, m.weight])).toEqual([
      ['gpt-4o-mini', 'openai', 1],
      ['gpt-4o-mini', 'openai-eu', 2],
    ]);
  });

  it('rejects duplicate team ids and duplicate static keys', () => {
    const path = scratch.write(
      [
        'teams:',
        '  - { id: research }',
        '  - { id: research }',
        'keys:',
        '  - { key: sk-same-key-1, team: research }',
        '  - { key: sk-same-key-1, team: research }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'teams[1].id')[0]).toContain('duplicate team id "research"');
    expect(at(problems, 'keys[1].key')[0]).toContain('duplicate key');
    // The key itself is a secret: it is not echoed back.
    expect(problems.join('\n')).not.toContain('sk-same-key-1');
  });

  it('checks budget alert thresholds and webhooks, naming each problem and never a secret', () => {
    const path = scratch.write(
      [
        'teams:',
        '  - { id: a, budget: { limit_usd: 5, alerts: [0, 50] } }',
        '  - { id: b, budget: { limit_usd: 5, alerts: [120] } }',
        'alerts:',
        '  webhooks:',
        '    - { url: "ftp://hooks.example.com/x", secret: whsec-long-enough-0001 }',
        '    - { url: "https://hooks.example.com/a", secret: short-secret }',
        '    - { url: "https://hooks.example.com/b", secret: whsec-long-enough-0002 }',
        '    - { url: "https://hooks.example.com/c", secret: whsec-long-enough-0003 }',
        '',
      ].join('\n'),
    );
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'teams[0].budget.alerts[0]')).toHaveLength(1);
    expect(at(problems, 'teams[1].budget.alerts[0]')).toHaveLength(1);
    expect(at(problems, 'alerts.webhooks[0].url')).toHaveLength(1);
    expect(at(problems, 'alerts.webhooks[1].secret')[0]).toContain('at least 16 characters');
    expect(problems.join('\n')).not.toContain('short-secret');
  });

  it('names webhooks by their host unless named, and refuses two of one name', () => {
    const hooks = [
      '    - { url: "https://hooks.example.com/a", secret: whsec-long-enough-0001 }',
      '    - { url: "https://other.example.com/b", secret: whsec-long-enough-0002, name: pager }',
    ];
    const ok = load(scratch.write(['alerts:', '  webhooks:', ...hooks, ''].join('\n')));
    expect(ok.alerts.webhooks.map((w) => w.name)).toEqual(['hooks.example.com', 'pager']);
    expect(ok.alerts).toMatchObject({ max_attempts: 12, backoff_ms: 10_000, timeout_ms: 10_000 });
    const twice = scratch.write(
      ['alerts:', '  webhooks:', hooks[0], hooks[0]!.replace('/a', '/z').replace('0001', '0003'), ''].join(
        '\n',
      ),
    );
    expect(
      at(
        problemsOf(() => load(twice)),
        'alerts.webhooks[1].name',
      )[0],
    ).toContain('"hooks.example.com" (its host)');
  });

  it('accepts keys on the built-in default team', () => {
    const path = scratch.write('keys:\n  - { key: sk-default-0001, team: default }\n');
    expect(load(path).keys).toEqual([{ key: 'sk-default-0001', team: 'default' }]);
  });

  it('accepts auto, auto:cost, auto:quality, auto:latency and ensemble names in a team allow-list', () => {
    const path = scratch.write(
      [
        'ensembles:',
        '  panel: { strategy: consensus, models: [demo-fast, demo-smart] }',
        'teams:',
        '  - { id: t, models: [auto, "auto:cost", "auto:quality", "auto:latency", panel, demo] }',
        '',
      ].join('\n'),
    );
    expect(load(path).teams[0]!.models).toEqual([
      'auto',
      'auto:cost',
      'auto:quality',
      'auto:latency',
      'panel',
      'demo',
    ]);
  });

  it('rejects a team allow-list entry that only starts with "auto"', () => {
    const path = scratch.write('teams:\n  - { id: t, models: [autopilot] }\n');
    const problems = problemsOf(() => load(path));
    expect(at(problems, 'teams[0].models[0]')).toHaveLength(1);
  });
});

describe('loadConfig: files', () => {
  it('reports YAML syntax errors with their line number', () => {
    const path = scratch.write(
      'server:\n  max_body_bytes: 100\nproviders: [\n  { id: a, type: openai }\nmodels: x\n',
    );
    const problems = problemsOf(() => load(path));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.startsWith(path)).toBe(true);
    expect(problems.join('\n')).toMatch(/line \d+/);
  });

  it('reports the line of a duplicate key', () => {
    const path = scratch.write('server: {}\nrouting: { policy: cost }\nrouting: { policy: quality }\n');
    const problems = problemsOf(() => load(path));
    expect(problems.join('\n')).toMatch(/line 3\b/);
  });

  it('reports an explicit file that does not exist', () => {
    const missing = `${scratch.dir}/nope.yaml`;
    const problems = problemsOf(() => load(missing));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(missing);
    expect(problems[0]).toContain('ENOENT');
  });

  it('reports a missing file named by QUORUM_CONFIG', () => {
    const missing = `${scratch.dir}/from-env.yaml`;
    const problems = problemsOf(() => loadConfig({ env: { QUORUM_CONFIG: missing } }));
    expect(problems[0]).toContain(missing);
  });

  it('reads the file named by QUORUM_CONFIG when no path is given', () => {
    const path = scratch.write('routing: { policy: quality }\n');
    const cfg = loadConfig({ env: { QUORUM_CONFIG: path } });
    expect(cfg.source).toBe(path);
    expect(cfg.routing.policy).toBe('quality');
  });

  it('rejects a file whose top level is not a mapping', () => {
    const path = scratch.write('- id: openai\n  type: openai\n');
    const problems = problemsOf(() => load(path));
    expect(problems).toEqual([`${path}: expected a mapping at the top level`]);
  });

  it('treats an empty file as an empty config', () => {
    const path = scratch.write('');
    const cfg = load(path);
    expect(cfg.source).toBe(path);
    expect(cfg.providers.map((p) => p.id)).toEqual(['demo']);
  });
});

describe('loadConfig: provider environment variables', () => {
  it('reports a malformed OPENAI_BASE_URL as a config problem, not a crash', () => {
    const path = scratch.write('');
    const err = (() => {
      try {
        load(path, { OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'not a url' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
  });
});
