/**
 * `quorum run`, in process: embedded (gateway + engine + store here, on a temp SQLite database, with the
 * demo provider) and `--server` against a gateway started in process. stdout/stderr are captured by
 * stubbing their write methods.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_HELP, type RunIo, runCommand } from '../../../src/cli/run.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { Engine } from '../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../src/workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../../../src/workflows/gateway-runner.ts';
import { startGateway, type TestGateway } from '../../integration/helpers/gateway.ts';
import { captureOutput } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'quorum-cli-run-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const CONFIG = file('quorum.yaml', 'providers:\n  - { id: demo, type: demo }\n');
const DB = `sqlite:${join(dir, 'quorum.db')}`;
const TWO_STEPS = file(
  'two.yaml',
  [
    'name: two-steps',
    'inputs: { topic: { type: string }, n: { type: number, default: 2 } }',
    'steps:',
    '  first: { prompt: "Name {{ inputs.n }} facts about {{ inputs.topic }}.", model: demo }',
    '  second:',
    '    needs: [first]',
    '    model: demo',
    '    prompt: "Summarise: {{ steps.first.output }}"',
    'outputs: { summary: "{{ steps.second.output }}" }',
    '',
  ].join('\n'),
);
const APPROVAL = file(
  'approval.yaml',
  [
    'name: with-approval',
    'inputs: { topic: { type: string } }',
    'steps:',
    '  draft: { prompt: "Write about {{ inputs.topic }}.", model: demo }',
    '  check: { type: approval, needs: [draft] }',
    'outputs: { text: "{{ steps.draft.output }}" }',
    '',
  ].join('\n'),
);
const CYCLE = file(
  'cycle.yaml',
  'name: loop\nsteps:\n  a: { prompt: x, needs: [b] }\n  b: { prompt: y, needs: [a] }\n',
);

/** Runs the command with stdout and stderr captured. */
async function run(args: string[], io: RunIo = { interactive: false }) {
  return captureOutput(() => runCommand(args, io));
}

const embedded = (...args: string[]) => ['--config', CONFIG, '--database', DB, ...args];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('quorum run (embedded)', () => {
  it('runs a two-step workflow with live progress per step and prints the outputs', async () => {
    const r = await run(embedded(TWO_STEPS, '--input', 'topic=owls', '--input', 'n=3'));
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(lines[0]).toMatch(/^run \S+ of two-steps v\d+ started$/);
    expect(at(/^▶ first started$/)).toBeGreaterThan(0);
    expect(at(/^✓ first \(\d+\.\d s, \$\d+\.\d{6}\)$/)).toBeGreaterThan(at(/^▶ first started$/));
    expect(at(/^▶ second started$/)).toBeGreaterThan(at(/^✓ first /));
    expect(at(/^✓ second \(\d+\.\d s, \$\d+\.\d{6}\)$/)).toBeGreaterThan(at(/^▶ second started$/));
    expect(r.stderr).toMatch(/✓ run \S+ succeeded/);
    const outputs = JSON.parse(r.stdout);
    expect(Object.keys(outputs)).toEqual(['summary']);
    expect(typeof outputs.summary).toBe('string');
    expect(outputs.summary.length).toBeGreaterThan(0);
    expect(r.stdout).toContain('\n  "summary"'); // pretty-printed
  });

  it('prints the whole run with --json (the n input read as a number)', async () => {
    const r = await run(embedded(TWO_STEPS, '--input', 'topic=owls', '--input', 'n=3', '--json'));
    expect(r.code).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({ status: 'succeeded', inputs: { topic: 'owls', n: 3 } });
    expect(view.steps.first.status).toBe('succeeded');
    expect(view.steps.second.status).toBe('succeeded');
    expect(view.outputs.summary).toBe(view.steps.second.output);
    expect(view.cost_usd).toBeGreaterThan(0);
  });

  it('refuses a missing required input with exit 2, naming inputs.topic', async () => {
    const r = await run(embedded(TWO_STEPS));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^inputs\.topic: required/m);
    expect(r.stdout).toBe('');
  });

  it('refuses a number input that is not a number, and a malformed --input', async () => {
    const bad = await run(embedded(TWO_STEPS, '--input', 'topic=x', '--input', 'n=lots'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^inputs\.n: expected a number/m);
    const malformed = await run(embedded(TWO_STEPS, '--input', 'topic'));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--input takes <name>=<value>/);
  });

  it('refuses a workflow naming an unknown model before any step runs (exit 2, with its path)', async () => {
    const unknown = file(
      'unknown.yaml',
      [
        'name: unknown-model',
        'steps:',
        '  a: { prompt: "hello", model: demo }',
        '  b: { needs: [a], prompt: "{{ steps.a.output }}", model: nope-model }',
        '',
      ].join('\n'),
    );
    const r = await run(embedded(unknown));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^steps\.b\.model: The model `nope-model` does not exist/m);
    expect(r.stderr).not.toMatch(/▶ a started/);
    expect(r.stdout).toBe('');
  });

  it('refuses a cyclic workflow with exit 2 and the path of the problem', async () => {
    const r = await run(embedded(CYCLE));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^steps\.\w\.needs: cycle/m);
  });

  it('exits 2 for a bad configuration, and for usage errors', async () => {
    const bad = file('bad.yaml', 'providers:\n  - { id: demo, type: nope }\n');
    const r = await run(['--config', bad, '--database', DB, TWO_STEPS, '--input', 'topic=x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^providers\[0\]\.type/m);
    expect((await run([])).code).toBe(2);
    expect((await run([TWO_STEPS, '--nope'])).stderr).toMatch(/quorum run: .*--nope/);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(RUN_HELP);
  });

  it('without a terminal, leaves an approval waiting, says how to approve it and exits 3', async () => {
    const r = await run(embedded(APPROVAL, '--input', 'topic=owls'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^✓ draft \(/m);
    expect(r.stderr).toMatch(/^⏸ check waiting for approval$/m);
    const runId = /run (\S+) is waiting for approval of "check"/.exec(r.stderr)?.[1];
    expect(runId).toBeTruthy();
    expect(r.stderr).toContain(`/v1/runs/${runId}/steps/check/approve`);
    expect(r.stdout).toBe('');
    // The run is left waiting in the database, for a gateway to resume.
    const store = await openStore(DB);
    try {
      expect((await store.workflows.getRun(runId!))?.status).toBe('waiting');
    } finally {
      await store.close();
    }
  });

  it('on a terminal, asks for the approval and finishes once approved (or fails when refused)', async () => {
    const asked: string[] = [];
    const yes = await run(embedded(APPROVAL, '--input', 'topic=owls'), {
      interactive: true,
      ask: async (q) => {
        asked.push(q);
        return 'y';
      },
    });
    expect(asked).toEqual(['approve check? [y/N] ']);
    expect(yes.code).toBe(0);
    expect(yes.stderr).toMatch(/^✓ check approved$/m);
    const { text } = JSON.parse(yes.stdout);
    // Before the question: what is being approved, the output of the step it waits on.
    const shown = yes.stderr.slice(yes.stderr.indexOf('── approval: check ──'));
    expect(shown).toMatch(/^── approval: check ──\ndraft:\n {2}\S/);
    expect(shown).toContain(`  ${String(text).split('\n')[0]}`);

    const no = await run(embedded(APPROVAL, '--input', 'topic=owls'), {
      interactive: true,
      ask: async () => '',
    });
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/^✗ check failed: not approved$/m);
    expect(no.stderr).toMatch(/✗ run failed/);
  });
});

describe('quorum run --server', () => {
  let store: Store;
  let gw: TestGateway;
  const KEY = 'sk-run-test-key';

  beforeAll(async () => {
    store = await openStore(`sqlite:${join(dir, 'server.db')}`);
    const hub = new EventHub();
    gw = await startGateway(
      { providers: [{ id: 'demo', type: 'demo' }], keys: [{ key: KEY, team: 'default' }] },
      {
        app: (gateway) => {
          const engine = new Engine({
            store,
            runner: createGatewayRunner(gateway, storeCallerResolver(store, gateway.config)),
            onEvent: hub.publish,
          });
          return { store, workflows: { engine, hub } };
        },
      },
    );
  });
  afterAll(async () => {
    await gw.close();
    await store.close();
  });

  it('runs the same workflow over HTTP, following the SSE events for progress', async () => {
    const r = await run([TWO_STEPS, '--server', gw.url, '--key', KEY, '--input', 'topic=owls']);
    expect(r.stderr).not.toMatch(/answered|cannot/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^run \S+ of two-steps v1 on http:\S+ started$/m);
    expect(r.stderr).toMatch(/^▶ first started$/m);
    expect(r.stderr).toMatch(/^✓ first \(\d+\.\d s, \$\d+\.\d{6}\)$/m);
    expect(r.stderr).toMatch(/^▶ second started$/m);
    expect(r.stderr).toMatch(/^✓ second \(\d+\.\d s, \$\d+\.\d{6}\)$/m);
    const outputs = JSON.parse(r.stdout);
    expect(Object.keys(outputs)).toEqual(['summary']);
    const runs = await store.workflows.listRuns({});
    expect(runs.some((x) => x.status === 'succeeded' && x.inputs.n === 2)).toBe(true);
  });

  it('reports a refused key, and leaves an approval waiting (exit 3) without a terminal', async () => {
    const refused = await run([TWO_STEPS, '--server', gw.url, '--key', 'sk-wrong-key', '--input', 'topic=x']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/answered 401/);

    const r = await run([APPROVAL, '--server', gw.url, '--key', KEY, '--input', 'topic=owls']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^⏸ check waiting for approval$/m);
    const runId = /run (\S+) is waiting for approval of "check"/.exec(r.stderr)?.[1];
    expect(r.stderr).toContain(`${gw.url}/v1/runs/${runId}/steps/check/approve`);
    expect((await store.workflows.getRun(runId!))?.status).toBe('waiting');
  });

  it('approves over HTTP when asked on a terminal', async () => {
    const r = await run([APPROVAL, '--server', gw.url, '--key', KEY, '--input', 'topic=owls'], {
      interactive: true,
      ask: async () => 'yes',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^✓ check approved$/m);
    const { text } = JSON.parse(r.stdout);
    expect(r.stderr).toContain(`── approval: check ──\ndraft:\n  ${String(text).split('\n')[0]}`);
  });

  it('cannot reach a server that is not there: exit 1', async () => {
    const r = await run([TWO_STEPS, '--server', 'http://127.0.0.1:9', '--input', 'topic=x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach/);
  });
});
