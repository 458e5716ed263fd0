import { describe, expect, it } from 'vitest';
import {
  extractReferences,
  render,
  renderValue,
  type TemplateContext,
  TemplateError,
} from '../../../../src/workflows/definition/index.ts';

const context: TemplateContext = {
  inputs: { a: 'Ada', n: 3, flag: false, person: { name: 'Ada', langs: ['en', 'fr'] } },
  steps: {
    town: { output: 'London' },
    plan: { output: { title: 'Plan', tasks: [{ name: 'one' }, { name: 'two' }], meta: { n: 2 } } },
    raw: { output: '{"k": "v"}' },
    empty: { output: '' },
    pending: { output: undefined },
  },
  feedback: 'be shorter',
};

function errorOf(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error('expected a TemplateError');
}

describe('extractReferences', () => {
  it('finds inputs, step outputs with field paths, and feedback', () => {
    const { references, errors } = extractReferences(
      'A {{inputs.a}} B {{   steps.plan.output.tasks.0.name   }} C {{ feedback }} D {{ steps.town.output }}',
    );
    expect(errors).toEqual([]);
    expect(references).toEqual([
      { kind: 'input', name: 'a', path: [], raw: '{{inputs.a}}' },
      {
        kind: 'step',
        step: 'plan',
        path: ['tasks', '0', 'name'],
        raw: '{{   steps.plan.output.tasks.0.name   }}',
      },
      { kind: 'feedback', raw: '{{ feedback }}' },
      { kind: 'step', step: 'town', path: [], raw: '{{ steps.town.output }}' },
    ]);
  });

  it('reports what is not a reference', () => {
    const cases: [string, RegExp][] = [
      ['{{ }}', /empty reference/],
      ['{{ foo }}', /unknown reference \{\{ foo \}\}/],
      ['{{ inputs }}', /unknown reference/],
      ['{{ steps.a }}', /write \{\{ steps.a.output \}\}/],
      ['{{ steps.a.result }}', /write \{\{ steps.a.output \}\}/],
      ['{{ inputs.a | upper }}', /no code, filters/],
      ['{{ inputs.a.toString() }}', /no code, filters/],
      ['{{ inputs.a + 1 }}', /no code, filters/],
      ['{{ steps.a.output..x }}', /no code, filters/],
      ['{{ inputs.constructor }}', /"constructor", which is refused/],
      ['{{ steps.a.output.__proto__ }}', /"__proto__", which is refused/],
      ['{{ steps.a.output.prototype }}', /"prototype", which is refused/],
      ['text {{ inputs.a', /unclosed "\{\{"/],
    ];
    for (const [text, message] of cases) {
      const { references, errors } = extractReferences(text);
      expect(references, text).toEqual([]);
      expect(errors, text).toHaveLength(1);
      expect(errors[0]!.message, text).toMatch(message);
    }
  });

  it('treats \\{{ as a literal', () => {
    expect(extractReferences('literal \\{{ not }} a ref')).toEqual({ references: [], errors: [] });
    expect(render('x \\{{ inputs.a }} {{ inputs.a }}', context)).toBe('x {{ inputs.a }} Ada');
  });
});

describe('render', () => {
  it('substitutes inputs, outputs, fields, items and feedback', () => {
    expect(render('Hi {{ inputs.a }} from {{steps.town.output}}', context)).toBe('Hi Ada from London');
    expect(render('{{ steps.plan.output.title }}: {{ steps.plan.output.tasks.1.name }}', context)).toBe(
      'Plan: two',
    );
    expect(render('{{ inputs.person.langs.1 }} {{ inputs.n }} {{ inputs.flag }}', context)).toBe(
      'fr 3 false',
    );
    expect(render('Fix: {{ feedback }}', context)).toBe('Fix: be shorter');
    expect(render('[{{ steps.empty.output }}]', context)).toBe('[]');
  });

  it('writes objects and arrays as JSON', () => {
    expect(render('{{ steps.plan.output.meta }}', context)).toBe('{"n":2}');
    expect(render('{{ inputs.person.langs }}', context)).toBe('["en","fr"]');
  });

  it('reads fields of a JSON string output', () => {
    expect(render('{{ steps.raw.output.k }}', context)).toBe('v');
  });

  it('renders a missing feedback as empty', () => {
    expect(render('a{{ feedback }}b', { inputs: {} })).toBe('ab');
    expect(render('a{{ feedback }}b', { feedback: null })).toBe('ab');
  });

  it('fails clearly on missing values', () => {
    const cases: [string, RegExp][] = [
      ['{{ inputs.zz }}', /\{\{ inputs.zz \}\}: input "zz" has no value/],
      ['{{ steps.nope.output }}', /step "nope" has no output yet/],
      ['{{ steps.pending.output }}', /step "pending" has no output yet/],
      [
        '{{ steps.plan.output.missing }}',
        /steps.plan.output has no field "missing" \(fields: title, tasks, meta\)/,
      ],
      ['{{ steps.plan.output.tasks.5 }}', /steps.plan.output.tasks has 2 item\(s\), no index 5/],
      ['{{ steps.plan.output.tasks.first }}', /is an array; read an item by index/],
      ['{{ steps.town.output.x }}', /steps.town.output is text, not JSON, so it has no field "x"/],
      ['{{ inputs.n.x }}', /inputs.n is number, so it has no field "x"/],
    ];
    for (const [text, message] of cases) {
      const error = errorOf(() => render(text, context));
      expect(error.message, text).toMatch(message);
      expect(error.reference).toBe(text);
    }
  });

  it('refuses prototype access and inherited properties at render time', () => {
    expect(errorOf(() => render('{{ inputs.a.__proto__ }}', context)).message).toMatch(/refused/);
    expect(errorOf(() => render('{{ steps.plan.output.constructor }}', context)).message).toMatch(/refused/);
    expect(errorOf(() => render('{{ steps.plan.output.hasOwnProperty }}', context)).message).toMatch(
      /no field/,
    );
    expect(errorOf(() => render('{{ inputs.toString }}', context)).message).toMatch(/has no value/);
    expect(errorOf(() => render('{{ steps.toString.output }}', context)).message).toMatch(/no output yet/);
    const withProto = { steps: { s: { output: Object.create({ secret: 1 }) } } };
    expect(errorOf(() => render('{{ steps.s.output.secret }}', withProto)).message).toMatch(/is object/);
  });

  it('runs no code', () => {
    const evil = { inputs: { a: { toJSON: () => 'called' } } };
    expect(errorOf(() => render('{{ inputs.a.toJSON }}', evil)).message).toMatch(/is not a JSON value/);
    expect(errorOf(() => render('{{ inputs.a }} {{ constructor.constructor }}', context)).message).toMatch(
      /refused/,
    );
  });
});

describe('renderValue', () => {
  it('keeps the type of a lone reference', () => {
    expect(renderValue('{{ steps.plan.output.meta }}', context)).toEqual({ n: 2 });
    expect(renderValue('  {{ inputs.n }} ', context)).toBe(3);
    expect(renderValue('{{ inputs.n }} km', context)).toBe('3 km');
    expect(renderValue('plain', context)).toBe('plain');
  });
});
