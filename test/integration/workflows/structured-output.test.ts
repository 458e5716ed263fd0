/**
 * A JSON step's schema reaches the provider: `response_format: json_schema` with the step's schema,
 * `strict` only for a schema strict mode accepts; a model without JSON output support gets `json_object`
 * (and the reply is still validated against the schema); with `auto` the router picks a model that
 * supports it. Runs started over HTTP, steps through the real gateway runner, the fakes record what
 * reached them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/index.ts';
import { type Fakes, fakesConfig, startFakes } from '../helpers/gateway.ts';
import { serveWorkflows, type WorkflowServer } from './serve-workflows.ts';

let fakes: Fakes;
let store: Store;
let server: WorkflowServer;
const dir = mkdtempSync(join(tmpdir(), 'quorum-wf-schema-'));

const STRICT = {
  type: 'object',
  properties: { town: { type: 'string' }, population: { type: ['integer', 'null'] } },
  required: ['town', 'population'],
  additionalProperties: false,
};
/** Valid JSON Schema, but strict mode wants every object closed and every property required. */
const LOOSE = { type: 'object', properties: { town: { type: 'string', minLength: 2 } }, required: ['town'] };

beforeAll(async () => {
  fakes = await startFakes();
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  const base = fakesConfig(fakes);
  // `plain` is the cheapest model and has no JSON output support.
  const plain = {
    id: 'plain',
    provider: 'oa',
    upstream: 'plain-up',
    context_window: 32000,
    max_output_tokens: 2048,
    price: { input: 0.01, output: 0.01 },
    capabilities: ['tools', 'streaming'],
  };
  server = await serveWorkflows({ ...base, models: [...(base.models as unknown[]), plain] }, store);
});
afterAll(async () => {
  await server.close();
  await store.close();
  await fakes.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const f of [fakes.openai, fakes.anthropic, fakes.gemini]) f.reset();
});

async function run(steps: Record<string, unknown>) {
  const name = `schema-${Math.random().toString(36).slice(2, 8)}`;
  const stored = await server.api('POST', '/v1/workflows', { name, steps });
  expect(stored.status).toBe(201);
  const done = await server.api('POST', `/v1/workflows/${name}/runs?wait=true`, {});
  expect(done.status).toBe(200);
  return done.json;
}

describe('JSON steps and their schema', () => {
  it("a strict-compatible schema goes upstream as json_schema with strict: true, named after the step; its until judge's call asks for plain JSON", async () => {
    fakes.openai.respond((r) =>
      JSON.stringify(r.body.messages).includes('Criteria: ')
        ? { text: '{"score": 9, "critique": "fine"}' }
        : { text: '{"town": "London", "population": null}' },
    );
    const done = await run({
      'plan-v2': {
        model: 'oa-model',
        prompt: 'Where?',
        output: 'json',
        schema: STRICT,
        until: { judge: 'oa-model', criteria: 'a real town', max_iterations: 2 },
      },
    });
    expect(done.status).toBe('succeeded');
    expect(done.steps['plan-v2'].output).toEqual({ town: 'London', population: null });
    const [own, judge] = fakes.openai.received;
    expect(fakes.openai.received).toHaveLength(2);
    expect(own!.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'plan-v2', schema: STRICT, strict: true },
    });
    // The judge's reply is a score, not the step's output: the step's schema is not its format.
    expect(judge!.body.response_format).toEqual({ type: 'json_object' });
  });

  it('a schema outside strict mode goes upstream without strict', async () => {
    fakes.openai.respond({ text: '{"town": "Paris"}' });
    const done = await run({ plan: { model: 'oa-model', prompt: 'Where?', output: 'json', schema: LOOSE } });
    expect(done.status).toBe('succeeded');
    expect(fakes.openai.received[0]!.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'plan', schema: LOOSE },
    });
  });

  it('a model without JSON output support gets json_object, and its reply is still held to the schema', async () => {
    fakes.openai.respond((r) =>
      r.body.model === 'gpt-up'
        ? { text: '{"town": "Lima"}' }
        : r.body.messages.length === 1
          ? { text: '{"town": "X"}' }
          : { text: '{"town": "Oslo"}' },
    );
    const done = await run({
      plan: { model: 'plain', prompt: 'Where?', output: 'json', schema: LOOSE },
      check: { model: 'oa-model', prompt: 'Where else?', output: 'json', schema: LOOSE },
    });
    expect(done.status).toBe('succeeded');
    expect(done.steps.plan.output).toEqual({ town: 'Oslo' });
    const plain = fakes.openai.received.filter((r) => r.body.model === 'plain-up');
    const json = fakes.openai.received.filter((r) => r.body.model === 'gpt-up');
    // The first reply broke minLength: the repair call said so; both asked for json_object only,
    // while the same schema went to the model that supports it.
    expect(plain).toHaveLength(2);
    for (const r of plain) expect(r.body.response_format).toEqual({ type: 'json_object' });
    expect(JSON.stringify(plain[1]!.body.messages)).toContain('/town: must NOT have fewer than 2 characters');
    expect(json[0]!.body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'check', schema: LOOSE },
    });
  });

  it('with auto, a JSON step is routed to a model that supports it (a text step to the cheapest)', async () => {
    fakes.gemini.respond({ text: '{"town": "Rome", "population": 2800000}' });
    fakes.openai.respond({ text: 'Rome' });
    const done = await run({
      guess: { model: 'auto:cost', prompt: 'Which town?' },
      plan: { model: 'auto:cost', prompt: 'Where?', output: 'json', schema: STRICT },
    });
    expect(done.status).toBe('succeeded');
    expect(done.steps.plan.output).toEqual({ town: 'Rome', population: 2800000 });
    // The text step went to the cheapest model; the JSON step to the cheapest one with JSON output,
    // whose adapter sent the step's schema as Gemini's response schema.
    expect(fakes.openai.received.map((r) => r.body.model)).toEqual(['plain-up']);
    expect(fakes.gemini.received).toHaveLength(1);
    const config = fakes.gemini.received[0]!.body.generationConfig;
    expect(config.responseMimeType).toBe('application/json');
    expect(Object.keys(config.responseSchema.properties)).toEqual(['town', 'population']);
  });

  it("a team's pattern cannot stall the gateway: the reply that would take a backtracking engine for ever fails the schema at once", async () => {
    // 2^60 steps for ECMAScript's engine; RE2 answers in time linear in the reply.
    fakes.openai.respond({ text: `{"code": "${'a'.repeat(60)}!"}` });
    const schema = { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } };
    const done = await run({ plan: { model: 'oa-model', prompt: 'Code?', output: 'json', schema } });
    expect(done.status).toBe('failed');
    expect(JSON.stringify(done.steps.plan)).toMatch(/must match pattern/);
  });

  it('a pattern RE2 cannot run is refused when the workflow is stored, naming where it is', async () => {
    const stored = await server.api('POST', '/v1/workflows', {
      name: 'lookahead',
      steps: {
        plan: {
          model: 'oa-model',
          prompt: 'Password?',
          output: 'json',
          schema: { type: 'object', properties: { pw: { type: 'string', pattern: '^(?=.*\\d).{8,}$' } } },
        },
      },
    });
    expect(stored.status).toBe(400);
    expect(stored.json.error.code).toBe('invalid_workflow');
    expect(stored.json.error.message).toMatch(/properties\.pw\.pattern: pattern cannot run in linear time/);
  });
});
