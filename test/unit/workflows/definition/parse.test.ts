import { describe, expect, it } from 'vitest';
import {
  parseDefinition,
  type SchemaCompiler,
  validateDefinition,
  type WorkflowDefinitionInput,
} from '../../../../src/workflows/definition/index.ts';
import { base, expectProblem, problemsOf } from './helpers.ts';

type Steps = WorkflowDefinitionInput['steps'];

function withSteps(patch: (steps: Steps) => void): WorkflowDefinitionInput {
  const def = base();
  patch(def.steps);
  return def;
}

describe('parseDefinition: valid definitions', () => {
  it('applies defaults and builds the DAG', () => {
    const result = parseDefinition(base());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.definition.steps.town_a).toMatchObject({
      type: 'llm',
      model: 'auto',
      output: 'text',
      needs: [],
    });
    expect(result.definition.steps.check).toEqual({ type: 'approval', needs: ['distance'] });
    expect(result.dag.order).toEqual(['town_a', 'town_b', 'distance', 'check']);
  });

  it('reads YAML by default and JSON when told', () => {
    const yaml = 'name: w\nsteps:\n  a: { prompt: hi }\n';
    expect(parseDefinition(yaml).ok).toBe(true);
    expect(parseDefinition(JSON.stringify({ name: 'w', steps: { a: { prompt: 'hi' } } }), 'json').ok).toBe(
      true,
    );
  });

  it('defaults an ensemble strategy to consensus and keeps what a review step needs', () => {
    const result = parseDefinition({
      name: 'w',
      steps: {
        a: { type: 'ensemble', prompt: 'q', models: ['x', 'y'] },
        b: { type: 'review', needs: ['a'], reviewers: ['r'], author: 'x', rounds: 2 },
      },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.definition.steps.a).toMatchObject({ strategy: 'consensus', output: 'text' });
    expect(result.definition.steps.b).not.toHaveProperty('model');
  });

  it('accepts {{ feedback }} anywhere and outputs reading any step', () => {
    const def = base();
    def.steps.town_a!.prompt = 'Again: {{ feedback }}';
    def.outputs = { a: '{{ steps.town_a.output }}', both: '{{ steps.town_b.output }} {{ feedback }}' };
    expect(parseDefinition(def).ok).toBe(true);
  });
});

describe('parseDefinition: problems, each with its path', () => {
  it('reports unparseable text', () => {
    expectProblem(problemsOf('name: [unclosed'), '(root)', /invalid YAML \(line \d+, column \d+\)/);
    expectProblem(problemsOf('{"name": ', 'json'), '(root)', /invalid JSON/);
    expectProblem(problemsOf('just text'), '(root)', /is an object with name/);
    expectProblem(
      problemsOf('name: a\nname: b\nsteps: {}'),
      '(root)',
      /invalid YAML.*[Mm]ap keys must be unique/,
    );
    // A parsed value that is a string is a value, not YAML text to read again.
    const asValue = validateDefinition('*RoaDj');
    expect(asValue.ok).toBe(false);
    if (!asValue.ok) expectProblem(asValue.problems, '(root)', /is an object with name/);
    // An alias to an anchor that was never set fails only while the value is built.
    expectProblem(problemsOf('*RoaDj'), '(root)', /invalid YAML: .*alias/i);
    expectProblem(problemsOf('name: *nowhere\nsteps: {}'), '(root)', /invalid YAML: .*alias/i);
  });

  it('reports zod problems: name, missing steps, wrong types, unknown fields with a suggestion', () => {
    const problems = problemsOf({
      name: 'Not A Slug',
      inputs: { a: { type: 'text' }, b: { type: 'number', default: 'x' } },
      steps: { a: { promt: 'hi', temperature: 3, needs: 'b' } },
      extra: true,
    });
    expectProblem(problems, 'name', /lowercase slug/);
    expectProblem(problems, 'inputs.a.type', /expected one of/);
    expectProblem(problems, 'inputs.b.default', /default must be of type number/);
    expectProblem(problems, 'steps.a.promt', /unknown field "promt" — did you mean "prompt"\?/);
    expectProblem(problems, 'steps.a.temperature', /2/);
    expectProblem(problems, 'steps.a.needs', /needs is a list of step names, e.g. needs: \[town_a\]/);
    expectProblem(problems, 'extra', /unknown field "extra"; allowed: name, description, inputs, steps/);
    expectProblem(problemsOf({ name: 'w' }), 'steps', /steps is required/);
    expectProblem(problemsOf({ name: 'w', steps: {} }), 'steps', /at least one step/);
  });

  it('reports invalid and reserved names', () => {
    expectProblem(problemsOf({ name: 'w', steps: { 'a.b': { prompt: 'x' } } }), 'steps.a.b', /invalid name/);
    const proto = JSON.parse('{"name":"w","steps":{"a":{"prompt":"x"},"__proto__":{"prompt":"y"}}}');
    expectProblem(problemsOf(proto), 'steps.__proto__', /reserved/);
    expectProblem(
      problemsOf({ name: 'w', steps: { constructor: { prompt: 'x' } } }),
      'steps.constructor',
      /reserved/,
    );
  });

  it('reports unknown needs with their index', () => {
    const problems = problemsOf(withSteps((s) => (s.distance!.needs = ['town_a', 'twn_b'])));
    expectProblem(problems, 'steps.distance.needs[1]', /unknown step "twn_b" — did you mean "town_b"\?/);
  });

  it('reports a need listed twice', () => {
    const problems = problemsOf(withSteps((s) => (s.distance!.needs = ['town_a', 'town_b', 'town_a'])));
    expectProblem(problems, 'steps.distance.needs[2]', /listed twice/);
  });

  it('names a cycle', () => {
    const problems = problemsOf({
      name: 'w',
      steps: { a: { needs: ['b'], prompt: 'x' }, b: { needs: ['a'], prompt: 'y' }, c: { prompt: 'z' } },
    });
    expectProblem(problems, 'steps.a.needs', /^cycle a → b → a: .*remove one of these needs/);
    expect(problems).toHaveLength(1);
  });

  it('names a longer cycle and a self-need', () => {
    const problems = problemsOf({
      name: 'w',
      steps: {
        s: { needs: ['s'], prompt: 'x' },
        a: { needs: ['c'], prompt: 'x' },
        b: { needs: ['a'], prompt: 'x' },
        c: { needs: ['b'], prompt: 'x' },
      },
    });
    expectProblem(problems, 'steps.s.needs', /^cycle s → s: a step cannot need itself/);
    expectProblem(problems, 'steps.a.needs', /^cycle a → c → b → a/);
  });

  it('reports template references to unknown inputs and steps', () => {
    const problems = problemsOf(
      withSteps((s) => {
        s.town_a!.prompt = 'Home town of {{ inputs.aa }}?';
        s.distance!.prompt = '{{ steps.town_c.output }}';
      }),
    );
    expectProblem(
      problems,
      'steps.town_a.prompt',
      /unknown input "aa" — did you mean "a"\?; declare it under inputs/,
    );
    expectProblem(problems, 'steps.distance.prompt', /unknown step "town_c"/);
  });

  it('reports reading a step that is not an ancestor', () => {
    const problems = problemsOf(withSteps((s) => (s.town_b!.prompt = 'Not {{ steps.town_a.output }}')));
    expectProblem(
      problems,
      'steps.town_b.prompt',
      /"town_b" does not need "town_a", so its output may not exist yet; add "town_a" to steps.town_b.needs/,
    );
  });

  it('allows reading transitive ancestors', () => {
    const def = withSteps((s) => {
      s.check = {
        needs: ['distance'],
        prompt: 'Check {{ steps.town_a.output }} → {{ steps.distance.output }}',
      };
    });
    expect(parseDefinition(def).ok).toBe(true);
  });

  it('reports a step reading its own output', () => {
    const problems = problemsOf(withSteps((s) => (s.town_a!.prompt = '{{ steps.town_a.output }}')));
    expectProblem(problems, 'steps.town_a.prompt', /cannot read its own output; use \{\{ feedback \}\}/);
  });

  it('reports malformed templates', () => {
    const problems = problemsOf(
      withSteps((s) => {
        s.town_a!.prompt = '{{ inputs.a | upper }}';
        s.town_b!.system = '{{ steps.town_a }}';
        s.distance!.prompt = 'open {{ inputs.a';
      }),
    );
    expectProblem(problems, 'steps.town_a.prompt', /not a reference \(no code, filters/);
    expectProblem(problems, 'steps.town_b.system', /write \{\{ steps.town_a.output \}\}/);
    expectProblem(problems, 'steps.distance.prompt', /unclosed "\{\{"/);
  });

  it('refuses prototype access in templates', () => {
    const problems = problemsOf(withSteps((s) => (s.town_a!.prompt = '{{ inputs.a.__proto__ }}')));
    expectProblem(problems, 'steps.town_a.prompt', /"__proto__", which is refused/);
  });

  it('reports fields read from a text output, a scalar input, or missing from the schema', () => {
    const problems = problemsOf({
      name: 'w',
      inputs: { q: { type: 'string' } },
      steps: {
        plan: {
          prompt: 'p',
          output: 'json',
          schema: { type: 'object', properties: { tasks: { type: 'array', items: { type: 'string' } } } },
        },
        text: { prompt: 't' },
        use: {
          needs: ['plan', 'text'],
          prompt:
            '{{ steps.plan.output.taks }} {{ steps.text.output.x }} {{ inputs.q.x }} {{ steps.plan.output.tasks.0 }}',
        },
      },
    });
    const at = problems.filter((p) => p.path === 'steps.use.prompt').map((p) => p.message);
    expect(at).toHaveLength(3);
    expect(at[0]).toMatch(/schema gives output no field "taks" — did you mean "tasks"\?/);
    expect(at[1]).toMatch(/steps.text has text output, so it has no fields; set output: json on "text"/);
    expect(at[2]).toMatch(/input "q" is a string, so it has no fields/);
  });

  it('reports unknown references in outputs', () => {
    const def = base();
    def.outputs = { km: '{{ steps.distanc.output }}', who: '{{ inputs.c }}' };
    const problems = problemsOf(def);
    expectProblem(problems, 'outputs.km', /unknown step "distanc" — did you mean "distance"\?/);
    expectProblem(problems, 'outputs.who', /unknown input "c"/);
  });

  it('checks templates in system, artifact and until.criteria', () => {
    const problems = problemsOf({
      name: 'w',
      steps: {
        a: {
          prompt: 'x',
          system: '{{ inputs.nope }}',
          until: { criteria: '{{ steps.b.output }}', max_iterations: 2 },
        },
        b: { type: 'review', needs: ['a'], reviewers: ['r'], artifact: '{{ steps.zz.output }}' },
      },
    });
    expectProblem(problems, 'steps.a.system', /unknown input "nope"/);
    expectProblem(problems, 'steps.a.until.criteria', /"a" does not need "b"/);
    expectProblem(problems, 'steps.b.artifact', /unknown step "zz"/);
  });

  it('requires loop bounds and caps them', () => {
    const problems = problemsOf({
      name: 'w',
      steps: {
        a: { prompt: 'x' },
        b: { needs: ['a'], prompt: 'y', until: { criteria: 'good' } },
        c: { needs: ['b'], type: 'review', reviewers: ['r'], back_to: { step: 'a' } },
        d: { needs: ['c'], prompt: 'z', until: { criteria: 'good', max_iterations: 50 } },
      },
    });
    expectProblem(problems, 'steps.b.until.max_iterations', /required: every loop needs a bound \(1–20\)/);
    expectProblem(problems, 'steps.c.back_to.max_loops', /required: every loop needs a bound/);
    expectProblem(problems, 'steps.d.until.max_iterations', /at most 20/);
  });

  it('requires back_to to name an ancestor', () => {
    const problems = problemsOf({
      name: 'w',
      steps: {
        a: { prompt: 'x' },
        side: { prompt: 'x' },
        r1: { needs: ['a'], type: 'review', reviewers: ['r'], back_to: { step: 'side', max_loops: 2 } },
        r2: { needs: ['a'], type: 'review', reviewers: ['r'], back_to: { step: 'r2', max_loops: 2 } },
        r3: { needs: ['a'], type: 'review', reviewers: ['r'], back_to: { step: 'nope', max_loops: 2 } },
      },
    });
    expectProblem(problems, 'steps.r1.back_to.step', /"r1" does not need "side".*; it may go back to "a"/);
    expectProblem(problems, 'steps.r2.back_to.step', /cannot go back to itself; use until/);
    expectProblem(problems, 'steps.r3.back_to.step', /unknown step "nope"/);
  });

  it('requires a verdict for back_to on llm steps', () => {
    const problems = problemsOf(withSteps((s) => (s.distance!.back_to = { step: 'town_a', max_loops: 1 })));
    expectProblem(problems, 'steps.distance.back_to', /use it on a review step, or together with until/);
  });

  it('reports invalid JSON Schemas, and a schema without output: json', () => {
    const problems = problemsOf({
      name: 'w',
      steps: {
        a: {
          prompt: 'x',
          output: 'json',
          schema: {
            type: 'object',
            properties: {
              n: { type: 'int' },
              tags: { type: 'array', items: { type: 'string', minLength: -1 } },
            },
            required: 'n',
          },
        },
        b: { prompt: 'y', schema: { type: 'object' } },
      },
    });
    expectProblem(problems, 'steps.a.schema.properties.n.type', /one of the allowed values: "array"/);
    expectProblem(problems, 'steps.a.schema.properties.tags.items.minLength', /must be >= 0/);
    expectProblem(problems, 'steps.a.schema.required', /must be array/);
    expectProblem(problems, 'steps.b.schema', /schema applies to JSON outputs: add output: json/);
  });

  it('uses an injected schema compiler', () => {
    const calls: unknown[] = [];
    const compiler: SchemaCompiler = {
      compile(schema) {
        calls.push(schema);
        return {
          ok: false,
          problems: [{ path: 'properties.x', message: 'rejected by the injected compiler' }],
        };
      },
    };
    const def = { name: 'w', steps: { a: { prompt: 'x', output: 'json', schema: { type: 'object' } } } };
    const result = parseDefinition(def, undefined, { schemaCompiler: compiler });
    expect(result).toEqual({
      ok: false,
      problems: [{ path: 'steps.a.schema.properties.x', message: 'rejected by the injected compiler' }],
    });
    expect(calls).toEqual([{ type: 'object' }]);
  });

  it('reports approval steps with a prompt or other model fields', () => {
    const problems = problemsOf(
      withSteps((s) => {
        s.check = {
          type: 'approval',
          needs: ['distance'],
          prompt: 'ok?',
          model: 'gpt',
          until: { criteria: 'x', max_iterations: 1 },
        };
      }),
    );
    expectProblem(
      problems,
      'steps.check.prompt',
      /approval steps wait for a person and have no prompt: remove it/,
    );
    expectProblem(problems, 'steps.check.model', /approval steps wait for a person: remove model/);
    expectProblem(problems, 'steps.check.until', /remove until/);
  });

  it('requires models on ensembles, reviewers on reviews, and prompts on llm steps', () => {
    const problems = problemsOf({
      name: 'w',
      steps: {
        a: { type: 'ensemble', prompt: 'x', model: 'gpt' },
        b: { type: 'review', needs: ['a'] },
        c: { model: 'gpt' },
        d: { type: 'ensemble', prompt: 'x', models: ['m'], quorum: 2 },
        e: { prompt: 'x', models: ['m'], reviewers: ['r'] },
        f: { type: 'review', reviewers: ['r'] },
      },
    });
    expectProblem(problems, 'steps.a.models', /ensemble steps need models/);
    expectProblem(problems, 'steps.a.model', /ensemble steps do not take model: list models/);
    expectProblem(problems, 'steps.b.reviewers', /review steps need reviewers/);
    expectProblem(problems, 'steps.c.prompt', /llm steps need a prompt/);
    expectProblem(problems, 'steps.d.quorum', /quorum \(2\) is more than the 1 candidate/);
    expectProblem(problems, 'steps.e.models', /belongs to ensemble steps: set type: ensemble, or use model/);
    expectProblem(problems, 'steps.e.reviewers', /belongs to review steps/);
    expectProblem(problems, 'steps.f.artifact', /say what to review: set artifact/);
  });

  it('reports every problem at once, in reading order', () => {
    const problems = problemsOf({
      name: 'Bad',
      steps: {
        a: { needs: ['zz'], prompt: '{{ inputs.x }}' },
        b: { type: 'approval', prompt: 'p' },
      },
      outputs: { o: '{{ steps.q.output }}' },
    });
    expect(problems.map((p) => p.path)).toEqual([
      'name',
      'steps.a.needs[0]',
      'steps.a.prompt',
      'steps.b.prompt',
      'outputs.o',
    ]);
  });
});

describe('parseDefinition: a hostile definition costs bounded work and answers with problems', () => {
  const steps = (n: number, step: (i: number) => Record<string, unknown>) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, step(i)]));

  it('refuses more than 200 steps with one problem, before any other check', () => {
    const problems = problemsOf({ name: 'huge', steps: steps(201, () => ({ prompt: 'x' })) });
    expect(problems).toHaveLength(1);
    expectProblem(problems, 'steps', /at most 200 steps \(this one has 201\)/);
  });

  it('refuses more than 2,000 needs in all (a dense graph), with one problem', () => {
    const dense = steps(100, (i) => ({ prompt: 'x', needs: Array.from({ length: i }, (_, j) => `s${j}`) }));
    const problems = problemsOf({ name: 'dense', steps: dense });
    expect(problems).toHaveLength(1);
    expectProblem(problems, 'steps', /4950 needs in all; a workflow may have at most 2000/);
  });

  it('a prompt with 200,000 unknown step references is answered with at most 100 problems and a summary', () => {
    const prompt = Array.from({ length: 200_000 }, (_, j) => `{{ steps.x${j % 1000}.output }}`).join(' ');
    const problems = problemsOf({ name: 'refs', steps: { a: { prompt } } });
    expect(problems).toHaveLength(101);
    expect(problems.at(-1)!.message).toMatch(/and \d+ more problem\(s\)/);
  });

  it('lists at most 20 step names in a message, however many steps there are', () => {
    const many = steps(150, () => ({ prompt: 'x' }));
    many.s0 = { prompt: 'x', needs: ['nope'] };
    const problem = expectProblem(
      problemsOf({ name: 'many', steps: many }),
      'steps.s0.needs[0]',
      /unknown step/,
    );
    expect(problem.message).toMatch(/… and 130 more/);
    expect(problem.message.length).toBeLessThan(1_000);
  });
});
