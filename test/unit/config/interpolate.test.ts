// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are ${VAR} config placeholders, not templates
import { afterAll, describe, expect, it } from 'vitest';
import { type InterpolationProblem, interpolate } from '../../../src/config/interpolate.ts';
import { at, load, problemsOf, scratchDir } from './helpers.ts';

function run(node: unknown, env: NodeJS.ProcessEnv) {
  const problems: InterpolationProblem[] = [];
  const value = interpolate(node, env, problems);
  return { value, problems };
}

describe('interpolate()', () => {
  it('replaces a whole-string ${VAR} with the variable', () => {
    const { value, problems } = run({ api_key: '${OPENAI_API_KEY}' }, { OPENAI_API_KEY: 'sk-test-123' });
    expect(value).toEqual({ api_key: 'sk-test-123' });
    expect(problems).toEqual([]);
  });

  it('uses the :- default when the variable is unset or empty, and the variable when set', () => {
    expect(run({ host: '${HOST:-127.0.0.1}' }, {}).value).toEqual({ host: '127.0.0.1' });
    expect(run({ host: '${HOST:-127.0.0.1}' }, { HOST: '' }).value).toEqual({ host: '127.0.0.1' });
    expect(run({ host: '${HOST:-127.0.0.1}' }, { HOST: '0.0.0.0' }).value).toEqual({ host: '0.0.0.0' });
  });

  it('substitutes inside longer strings, several times, keeping the text around them', () => {
    const { value } = run(
      { url: 'http://${H:-localhost}:${P:-9001}/v1', greeting: 'hi ${WHO} and ${WHO}!' },
      { WHO: 'ada', P: '7000' },
    );
    expect(value).toEqual({ url: 'http://localhost:7000/v1', greeting: 'hi ada and ada!' });
  });

  it('leaves results as text, so an all-digit secret stays a string (the schema types numbers)', () => {
    const { value } = run(
      { port: '${PORT:-8080}', key: '${KEY}', hex: '${HEX}' },
      { KEY: '0123456789', HEX: '0x10' },
    );
    expect(value).toEqual({ port: '8080', key: '0123456789', hex: '0x10' });
  });

  it('keeps a number embedded in a longer string as text', () => {
    const { value } = run({ label: 'port ${PORT:-8080}' }, {});
    expect(value).toEqual({ label: 'port 8080' });
  });

  it('walks arrays and nested mappings and reports an unset variable with its path', () => {
    const { value, problems } = run(
      { keys: [{ key: 'ok' }, { key: '${MISSING_KEY}' }], providers: [{ headers: { org: 'x-${ORG}' } }] },
      {},
    );
    expect(problems.map((p) => p.path)).toEqual(['keys[1].key', 'providers[0].headers.org']);
    expect(problems[0]!.message).toContain('MISSING_KEY');
    expect(problems[0]!.message).toContain('not set');
    expect(problems[1]!.message).toContain('ORG');
    // The text is left as it was, so nothing silently becomes an empty key.
    expect((value as { keys: { key: string }[] }).keys[1]!.key).toBe('${MISSING_KEY}');
  });

  it('never lets a value inject YAML structure', () => {
    const env = {
      LIST: '[1, 2, 3]',
      MAP: '{ admin: true }',
      MULTI: 'a\nb: c',
      SEQ: '- x\n- y',
      NUL: 'null',
    };
    const { value } = run({ a: '${LIST}', b: '${MAP}', c: '${MULTI}', d: '${SEQ}', e: '${NUL}' }, env);
    expect(value).toEqual({ a: '[1, 2, 3]', b: '{ admin: true }', c: 'a\nb: c', d: '- x\n- y', e: 'null' });
  });

  it('leaves non-string scalars and ${ without a name untouched', () => {
    const { value, problems } = run({ n: 5, b: false, z: null, s: 'cost: $5 ${ not a var', e: '$HOME' }, {});
    expect(value).toEqual({ n: 5, b: false, z: null, s: 'cost: $5 ${ not a var', e: '$HOME' });
    expect(problems).toEqual([]);
  });
});

describe('interpolation through loadConfig', () => {
  const scratch = scratchDir();
  afterAll(() => scratch.cleanup());

  it('turns ${VAR:-default} numbers into numbers the schema accepts', () => {
    const path = scratch.write(
      'server:\n  max_body_bytes: ${MAX_BODY:-2048}\n  request_timeout_ms: ${TIMEOUT}\nproviders:\n' +
        '  - { id: openai, type: openai, api_key: "${OPENAI_API_KEY}", max_retries: "${RETRIES:-3}" }\n',
    );
    const cfg = load(path, { TIMEOUT: '5000', OPENAI_API_KEY: 'sk-abc' });
    expect(cfg.server).toMatchObject({ max_body_bytes: 2048, request_timeout_ms: 5000 });
    expect(cfg.providers[0]).toMatchObject({ id: 'openai', api_key: 'sk-abc', max_retries: 3 });
  });

  it('reports every unset variable with its path and does not load', () => {
    const path = scratch.write(
      'providers:\n  - { id: openai, type: openai, api_key: "${OPENAI_API_KEY}" }\n' +
        'keys:\n  - { key: "${RESEARCH_KEY}", team: default }\n',
    );
    const problems = problemsOf(() => load(path, {}));
    expect(at(problems, 'providers[0].api_key')).toHaveLength(1);
    expect(at(problems, 'providers[0].api_key')[0]).toContain('OPENAI_API_KEY');
    expect(at(problems, 'keys[0].key')).toHaveLength(1);
    expect(at(problems, 'keys[0].key')[0]).toContain('RESEARCH_KEY');
  });

  it('a value that looks like YAML stays a plain string (no structure injection)', () => {
    const path = scratch.write(
      'providers:\n  - { id: openai, type: openai, api_key: "${KEY}" }\nteams:\n  - { id: t }\n',
    );
    // If the value were parsed as YAML, this would add a key or break the mapping.
    const cfg = load(path, { KEY: 'sk-1\nteams: [{id: evil}]' });
    expect(cfg.providers[0]!.api_key).toBe('sk-1\nteams: [{id: evil}]');
    expect(cfg.teams.map((t) => t.id)).toEqual(['t']);
  });
});
