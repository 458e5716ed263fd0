/**
 * The editor JSON Schemas in schemas/: the committed files are what `npm run schemas` generates from the
 * zod schemas (so they never drift from what the server accepts), the shipped examples pass them, and a
 * broken file is refused at the path an editor should underline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateSchemas, SCHEMAS_DIR } from '../../scripts/gen-schemas.ts';
import { STEP_FIELDS } from '../../src/workflows/definition/check.ts';
import { parseDefinition, STEP_TYPES, type StepType } from '../../src/workflows/definition/index.ts';
import { StepObjectSchema } from '../../src/workflows/definition/schema.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const addFormats = addFormatsModule.default;

const committed = (name: string) => JSON.parse(readFileSync(join(SCHEMAS_DIR, name), 'utf8'));

function validator(name: string) {
  // strictRequired off: a step type's `required` names fields declared beside it, not inside the `then`.
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  const validate = ajv.compile(committed(name));
  return (data: unknown): ErrorObject[] => (validate(data) ? [] : (validate.errors ?? []));
}

const workflow = validator('workflow.schema.json');
const config = validator('config.schema.json');

/**
 * Where each error is and what it says, as an editor would show it: one line per mistake (ajv's
 * bookkeeping for `if`/`then` and a field name's inner check is left out).
 */
const where = (errors: ErrorObject[]) =>
  errors
    .filter((e) => e.keyword !== 'if' && !(e.keyword === 'enum' && e.propertyName !== undefined))
    .map((e) => {
      if (e.keyword === 'additionalProperties') {
        return `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}: unknown`;
      }
      if (e.keyword === 'propertyNames') {
        return `${e.instancePath}/${(e.params as { propertyName: string }).propertyName}: not for this step type`;
      }
      return `${e.instancePath}: ${e.message}`;
    });

describe('schemas/', () => {
  it('holds exactly what `npm run schemas` generates from the zod schemas', () => {
    const fresh = generateSchemas();
    expect(readdirSync(SCHEMAS_DIR).sort()).toEqual(Object.keys(fresh).sort());
    for (const [name, schema] of Object.entries(fresh)) {
      // Compared as values: Biome formats the committed files after they are written.
      expect(committed(name), `schemas/${name} is stale: run npm run schemas`).toEqual(
        JSON.parse(JSON.stringify(schema)),
      );
    }
  });

  it('describes every field, so an editor can say what each one does', () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Record<string, unknown>;
      for (const [field, child] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
        if (!(child as { description?: string }).description) undocumented.push(`${path}.${field}`);
        walk(child, `${path}.${field}`);
      }
      for (const key of ['items', 'additionalProperties']) walk(schema[key], `${path}[]`);
    };
    for (const name of Object.keys(generateSchemas())) walk(committed(name), name);
    expect(undocumented).toEqual([]);
  });
});

describe('workflow.schema.json', () => {
  const dir = join(ROOT, 'examples/workflows');
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

  it.each(files)('accepts examples/workflows/%s, which the server accepts too', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(where(workflow(parse(text)))).toEqual([]);
    expect(parseDefinition(text).ok).toBe(true);
  });

  it('refuses a broken workflow at the paths of its mistakes', () => {
    const broken = {
      name: 'Hometown Distance',
      steps: {
        town: { promt: 'Home town of {{ inputs.a }}?', retry: { attempts: 0 } },
        check: { type: 'aproval', needs: 'town' },
        draft: { prompt: 'Write.', until: { criteria: 'Clear.', max_iterations: 50 } },
      },
    };
    expect(where(workflow(broken)).sort()).toEqual([
      '/name: must match pattern "^[a-z0-9][a-z0-9_-]{0,63}$"',
      '/steps/check/needs: must be array',
      '/steps/check/type: must be equal to one of the allowed values',
      '/steps/draft/until/max_iterations: must be <= 20',
      '/steps/town/promt: not for this step type',
      '/steps/town/promt: unknown',
      '/steps/town/retry/attempts: must be >= 1',
      "/steps/town: must have required property 'prompt'",
    ]);
    // The server refuses the same mistakes, at the same places.
    const server = parseDefinition(broken);
    expect(server.ok).toBe(false);
    const paths = server.ok ? [] : server.problems.map((p) => p.path);
    for (const path of ['name', 'steps.town.promt', 'steps.town.retry.attempts', 'steps.check.needs']) {
      expect(paths).toContain(path);
    }
  });

  /** A valid value for each step field (and what it needs beside it to be valid where it belongs). */
  const SAMPLES: Record<string, { value: unknown; with?: Record<string, unknown> }> = {
    type: { value: undefined },
    description: { value: 'd' },
    needs: { value: ['prev'] },
    timeout_ms: { value: 1000 },
    prompt: { value: 'p' },
    system: { value: 's' },
    max_tokens: { value: 10 },
    temperature: { value: 0.5 },
    retry: { value: { attempts: 2 } },
    model: { value: 'demo' },
    output: { value: 'text' },
    schema: { value: { type: 'object' }, with: { output: 'json' } },
    until: { value: { criteria: 'c', max_iterations: 2 } },
    back_to: { value: { step: 'prev', max_loops: 1 }, with: { until: { criteria: 'c', max_iterations: 2 } } },
    strategy: { value: 'consensus' },
    models: { value: ['demo-fast'] },
    judge: { value: 'demo-smart' },
    synthesizer: { value: 'demo-smart', with: { strategy: 'fusion', judge: 'demo-smart' } },
    samples: { value: 2 },
    temperatures: { value: [0.2, 0.9] },
    quorum: { value: 1 },
    reviewers: { value: ['demo-smart'] },
    author: { value: 'demo-fast' },
    rounds: { value: 2 },
    threshold: { value: 7 },
    artifact: { value: 'a' },
  };
  const BASE: Record<StepType, Record<string, unknown>> = {
    llm: { prompt: 'p' },
    ensemble: { type: 'ensemble', prompt: 'p', models: ['demo-fast'] },
    review: { type: 'review', reviewers: ['demo-smart'], artifact: 'a' },
    approval: { type: 'approval' },
  };

  it('takes on each step type exactly the fields the server takes there', () => {
    const disagreements: string[] = [];
    for (const type of STEP_TYPES) {
      for (const [field, sample] of Object.entries(SAMPLES)) {
        if (field === 'type') continue;
        const step = { ...BASE[type], ...sample.with, needs: ['prev'], [field]: sample.value };
        const definition = { name: 'w', steps: { prev: { prompt: 'x' }, s: step } };
        const result = parseDefinition(definition);
        const server = result.ok ? [] : result.problems.filter((p) => p.path === `steps.s.${field}`);
        const editor = where(workflow(definition)).filter((e) => e.startsWith(`/steps/s/${field}:`));
        if (server.length > 0 !== editor.length > 0) {
          disagreements.push(
            `${type}.${field}: server ${JSON.stringify(server)}, editor ${JSON.stringify(editor)}`,
          );
        }
      }
      const without = Object.fromEntries(Object.entries(BASE[type]).filter(([k]) => k === 'type'));
      const missing = STEP_FIELDS[type].required.filter(
        (field) =>
          !where(workflow({ name: 'w', steps: { s: without } })).includes(
            `/steps/s: must have required property '${field}'`,
          ),
      );
      if (missing.length) disagreements.push(`${type}: ${missing.join(', ')} not required`);
    }
    expect(disagreements).toEqual([]);
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(StepObjectSchema.shape).sort());
  });

  it('requires a bound on every loop and a name and steps on every workflow', () => {
    expect(where(workflow({ description: 'x' })).sort()).toEqual([
      ": must have required property 'name'",
      ": must have required property 'steps'",
    ]);
    const unbounded = { name: 'w', steps: { a: { prompt: 'x', until: { criteria: 'y' } } } };
    expect(where(workflow(unbounded))).toEqual([
      "/steps/a/until: must have required property 'max_iterations'",
    ]);
  });
});

describe('config.schema.json', () => {
  it('accepts config/quorum.example.yaml as written, ${VAR} references included', () => {
    const text = readFileSync(join(ROOT, 'config/quorum.example.yaml'), 'utf8');
    expect(where(config(parse(text)))).toEqual([]);
  });

  it('accepts a models entry that names only a catalog id, and ${VAR} where a number goes', () => {
    const sample = {
      server: { max_body_bytes: '${QUORUM_MAX_BODY:-1048576}', cors: { origins: ['*'] } },
      providers: [{ id: 'local', type: 'openai', base_url: 'http://127.0.0.1:11434/v1' }],
      models: [
        { id: 'claude-sonnet-5-5' },
        { id: 'llama', provider: 'local', context_window: 131072, max_output_tokens: 8192 },
      ],
      routing: { policy: '${QUORUM_ROUTING_POLICY:-balanced}', fallbacks: { llama: ['claude-sonnet-5-5'] } },
      ensembles: { panel: { strategy: 'consensus', models: ['llama', 'claude-sonnet-5-5'], layers: 2 } },
      teams: [{ id: 'research', budget: { limit_usd: 25 }, limits: { rpm: 60 }, models: ['llama'] }],
      keys: [{ key: '${RESEARCH_KEY}', team: 'research', name: 'ci' }],
    };
    expect(where(config(sample))).toEqual([]);
  });

  it('refuses a broken configuration at the paths of its mistakes', () => {
    const broken = {
      server: { max_body_bytes: 'ten megabytes', request_timeot_ms: 1000 },
      providers: [{ id: 'openai', type: 'openia' }],
      models: [{ id: 'm', price: { input: -1, output: 1 } }],
      teams: [{ id: '@ops', budget: { limit_usd: 5, period: 'yearly' } }],
      keys: [{ key: 'short', team: 'ops' }],
    };
    const errors = where(config(broken));
    for (const expected of [
      '/server/request_timeot_ms: unknown',
      '/server/max_body_bytes: must be integer',
      '/providers/0/type: must be equal to one of the allowed values',
      '/models/0/price/input: must be >= 0',
      '/teams/0/id: must match pattern "^[A-Za-z0-9][A-Za-z0-9_.:@-]*$"',
      '/teams/0/budget/period: must be equal to one of the allowed values',
      '/keys/0/key: must NOT have fewer than 8 characters',
    ]) {
      expect(errors).toContain(expected);
    }
  });
});
