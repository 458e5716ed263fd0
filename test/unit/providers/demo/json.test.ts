/**
 * JSON answers: valid against the schema they were asked for (checked with the workflow engine's own
 * validator) and written from the prompt; json_object answers use the keys the prompt names.
 */
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../../../src/chat/index.ts';
import { demoAnswer } from '../../../../src/providers/demo/answer.ts';
import { builtinSchemaCompiler } from '../../../../src/workflows/definition/index.ts';

const PLAN_PROMPT = [
  'Plan how to achieve this goal: Launch a newsletter for a bakery',
  'Return an object with: "research" (what to find out), "draft" (what to write first),',
  '"risks" (a list of the main risks, most serious first).',
].join('\n');

const PLAN_SCHEMA = {
  type: 'object',
  properties: {
    research: { type: 'string', minLength: 1 },
    draft: { type: 'string', minLength: 1 },
    risks: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 5 },
  },
  required: ['research', 'draft', 'risks'],
  additionalProperties: false,
};

function answer(prompt: string, format: ChatRequest['response_format'], system?: string): unknown {
  const messages: ChatRequest['messages'] = [
    ...(system ? [{ role: 'system' as const, content: system }] : []),
    { role: 'user', content: prompt },
  ];
  return JSON.parse(demoAnswer('demo-fast', { model: 'demo', messages, response_format: format }).content!);
}

function valid(schema: Record<string, unknown>, value: unknown) {
  const compiled = builtinSchemaCompiler.compile(schema);
  if (!compiled.ok) throw new Error('schema does not compile');
  return compiled.validate(value);
}

describe('json_schema answers', () => {
  it("are valid against plan-then-execute's schema and read like the goal, not placeholders", () => {
    const plan = answer(PLAN_PROMPT, {
      type: 'json_schema',
      json_schema: { name: 'plan', schema: PLAN_SCHEMA, strict: true },
    }) as { research: string; risks: string[] };
    expect(valid(PLAN_SCHEMA, plan)).toEqual({ ok: true });
    expect(plan.research).toMatch(/newsletter for a bakery/);
    expect(plan.research).toMatch(/what to find out/);
    expect(plan.risks.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(plan)).not.toMatch(/"demo"/);
  });

  it('respect bounds, enums, consts, formats, nested objects and arrays, and unions', () => {
    const schema = {
      type: 'object',
      additionalProperties: false,
      required: ['title', 'tags', 'priority', 'owner', 'steps', 'score', 'count', 'kind', 'due'],
      properties: {
        title: { type: 'string', minLength: 5, maxLength: 30 },
        tags: { type: 'array', items: { type: 'string', minLength: 2 }, minItems: 4, maxItems: 6 },
        pair: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: 2 },
        priority: { enum: ['low', 'high'] },
        kind: { const: 'task' },
        owner: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'email'],
          properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
        },
        steps: {
          type: 'array',
          minItems: 2,
          items: {
            type: 'object',
            required: ['what', 'done'],
            additionalProperties: false,
            properties: { what: { type: 'string', minLength: 1 }, done: { type: 'boolean' } },
          },
        },
        score: { type: 'number', minimum: 1, maximum: 5 },
        count: { type: 'integer', exclusiveMinimum: 10, exclusiveMaximum: 13 },
        maybe: { type: ['null', 'string'] },
        either: { anyOf: [{ type: 'integer', minimum: 3 }, { type: 'string' }] },
        due: { type: 'string', format: 'date' },
      },
    };
    const value = answer('Plan the spring release of the mobile app.', {
      type: 'json_schema',
      json_schema: { name: 'task', schema },
    });
    expect(valid(schema, value)).toEqual({ ok: true });
  });

  it('fill tool-call arguments the same way', () => {
    const parameters = {
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 2 },
        days: { type: 'integer', minimum: 1, maximum: 7 },
      },
      required: ['city', 'days'],
      additionalProperties: false,
    };
    const r = demoAnswer('demo-fast', {
      model: 'demo',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'weather', parameters } }],
    });
    expect(valid(parameters, JSON.parse(r.tool_calls![0]!.function.arguments))).toEqual({ ok: true });
  });
});

describe('json_object answers', () => {
  it('use the keys the prompt names, lists as arrays, quoted choices as one of them', () => {
    const plan = answer(
      PLAN_PROMPT,
      { type: 'json_object' },
      'You are a careful planner. Answer with JSON only.',
    );
    expect(Object.keys(plan as object)).toEqual(['research', 'draft', 'risks']);
    expect(valid(PLAN_SCHEMA, plan)).toEqual({ ok: true });
    const review = answer(
      'Return an object with: "issues" (a list of issues), "severity" ("minor" or "major").',
      {
        type: 'json_object',
      },
    ) as { issues: string[]; severity: string };
    expect(review.issues.length).toBeGreaterThan(0);
    expect(review.severity).toBe('minor');
  });

  it('wrap the answer as {"answer"} only when the prompt names no keys', () => {
    expect(answer('What is 6 * 7?', { type: 'json_object' })).toEqual({ answer: 'The answer is 42.' });
  });
});
