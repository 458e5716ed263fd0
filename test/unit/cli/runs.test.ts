/**
 * `quorum runs …` against a real gateway started in process (demo provider, SQLite store, the workflow
 * engine), over its HTTP API: a workflow with an approval gate is started, then listed, shown, followed,
 * approved, rejected, re-run and cancelled from the CLI. stdout/stderr are captured by stubbing writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RUNS_HELP, runsCommand } from '../../../src/cli/runs.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { Engine } from '../../../src/workflows/engine/index.ts';
import { EventHub } from '../../../src/workflows/event-hub.ts';
import { createGatewayRunner, storeCallerResolver } from '../../../src/workflows/gateway-runner.ts';
import { startGateway, type TestGateway } from '../../integration/helpers/gateway.ts';
import { captureOutput, quorum } from './helpers.ts';

const KEY = 'sk-runs-test-default-key';
const OTHER_KEY = 'sk-runs-test-other-team-key';
const MASTER = 'mk-runs-test-master-key';

const GATED = (description = 'Is the draft right?') =>
  [
    'name: gated',
    'inputs: { topic: { type: string } }',
    'steps:',
    '  draft: { prompt: "Write about {{ inputs.topic }}.", model: demo }',
    `  check: { type: approval, needs: [draft], description: "${description}" }`,
    '  final: { prompt: "Polish: {{ steps.draft.output }}", model: demo, needs: [check] }',
    'outputs: { text: "{{ steps.final.output }}" }',
    '',
  ].join('\n');
const PLAIN = 'name: plain\nsteps:\n  only: { prompt: "Say hi.", model: demo }\n';

const dir = mkdtempSync(join(tmpdir(), 'quorum-cli-runs-'));
let store: Store;
let engine: Engine;
let gw: TestGateway;

/** Runs the command with stdout and stderr captured. */
async function runs(args: string[]) {
  return captureOutput(() => runsCommand(args));
}

/** The flags naming the test gateway and the default team's key. */
const at = () => ['--server', gw.url, '--key', KEY];

async function api(method: string, path: string, body?: string, key = KEY, type = 'application/json') {
  const res = await fetch(gw.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const json = (await res.json()) as any;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Stores the definition and starts a run, returning once it has ended or waits for a person. */
async function start(yaml: string, inputs: Record<string, unknown> = {}, key = KEY) {
  const workflow = await api('POST', '/v1/workflows', yaml, key, 'application/yaml');
  const run = await api(
    'POST',
    `/v1/workflows/${workflow.id}/runs?wait=true`,
    JSON.stringify({ inputs }),
    key,
  );
  return { workflow, run };
}

/** The body of a table: each line's cells. */
const cells = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/\s{2,}/));

beforeAll(async () => {
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  const hub = new EventHub();
  gw = await startGateway(
    {
      providers: [{ id: 'demo', type: 'demo' }],
      teams: [{ id: 'default' }, { id: 'other' }],
      keys: [
        { key: KEY, team: 'default', name: 'cli' },
        { key: OTHER_KEY, team: 'other', name: 'other' },
      ],
    },
    {
      masterKey: MASTER,
      app: (gateway) => {
        engine = new Engine({
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
  rmSync(dir, { recursive: true, force: true });
});

describe('quorum runs list', () => {
  let waiting: string;
  let done: string;

  beforeAll(async () => {
    done = (await start(PLAIN)).run.id;
    waiting = (await start(GATED(), { topic: 'owls' })).run.id;
  });

  it('prints a table of runs, newest first: id, workflow, status, waiting step, started, cost', async () => {
    const r = await runs(['list', ...at()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [head, ...rows] = cells(r.stdout);
    expect(head).toEqual(['id', 'workflow', 'status', 'waiting', 'started (UTC)', 'cost']);
    const ids = rows.map((row) => row[0]);
    expect(ids.indexOf(waiting)).toBeLessThan(ids.indexOf(done));
    const row = rows.find((x) => x[0] === waiting)!;
    expect(row.slice(1, 4)).toEqual(['gated v1', 'waiting', 'check']);
    expect(row[4]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(row[5]).toMatch(/^\$0\.\d{6}$/);
    expect(Number(row[5]!.slice(1))).toBeGreaterThan(0);
    expect(rows.find((x) => x[0] === done)!.slice(1, 4)).toEqual(['plain v1', 'succeeded', '-']);
  });

  it('--waiting lists only the runs waiting for a person; --status and --workflow filter', async () => {
    const w = await runs(['list', '--waiting', ...at()]);
    const waitingIds = cells(w.stdout)
      .slice(1)
      .map((x) => x[0]);
    expect(waitingIds).toContain(waiting);
    expect(waitingIds).not.toContain(done);
    expect(cells(w.stdout).every((x, i) => i === 0 || x[2] === 'waiting')).toBe(true);

    const ok = await runs(['list', '--status', 'succeeded', ...at()]);
    expect(
      cells(ok.stdout)
        .slice(1)
        .map((x) => x[0]),
    ).toContain(done);
    expect(ok.stdout).not.toContain(waiting);

    const plain = await runs(['list', '--workflow', 'plain', ...at()]);
    expect(
      cells(plain.stdout)
        .slice(1)
        .map((x) => x[1]),
    ).toEqual(['plain v1']);
  });

  it('--workflow by name covers every version; by id one version', async () => {
    const v2 = await start(GATED('Second version: is it right?'), { topic: 'bats' });
    expect(v2.workflow.version).toBe(2);
    const byName = await runs(['list', '--workflow', 'gated', ...at()]);
    const labels = cells(byName.stdout)
      .slice(1)
      .map((x) => x[1]);
    expect(labels).toContain('gated v1');
    expect(labels).toContain('gated v2');
    const byId = await runs(['list', '--workflow', v2.workflow.id, ...at()]);
    expect(cells(byId.stdout).slice(1)).toEqual([expect.arrayContaining([v2.run.id, 'gated v2'])]);
    const unknown = await runs(['list', '--workflow', 'nope', ...at()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no workflow named "nope" or with that id for this key \(known: .*gated/);
  });

  it('--limit shows that many and says more match; --json prints the list', async () => {
    const one = await runs(['list', '--limit', '1', ...at()]);
    expect(cells(one.stdout)).toHaveLength(2);
    expect(one.stderr).toMatch(/the newest 1 shown; more match: raise --limit/);
    const json = await runs(['list', '--waiting', '--json', ...at()]);
    const list = JSON.parse(json.stdout);
    expect(list).toMatchObject({ object: 'list', has_more: false });
    expect(list.data.map((x: any) => x.id)).toContain(waiting);
    expect(list.data.every((x: any) => x.status === 'waiting' && x.steps.check.status === 'waiting')).toBe(
      true,
    );
    const bad = await runs(['list', '--limit', '0', ...at()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit: expected a whole number from 1 to 1000/);
  });

  it("prints the server's message for a filter it refuses, exit 2", async () => {
    const r = await runs(['list', '--status', 'stuck', ...at()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'quorum runs list: status: unknown status "stuck"; use pending, running, waiting, succeeded, failed, cancelled\n',
    );
  });
});

describe('quorum runs show', () => {
  it('prints the run and its steps in definition order with status, attempts, cost and a cut output', async () => {
    const { run } = await start(GATED(), { topic: 'moths' });
    // A person's long correction of the draft: the table cuts it, --json has it whole.
    const long = `A long draft. ${'word '.repeat(1000)}`;
    await api('PUT', `/v1/runs/${run.id}/steps/draft/output`, JSON.stringify({ output: long }));
    await engine.wait(run.id);
    const r = await runs(['show', run.id, ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^run\\s+${run.id}$`, 'm'));
    expect(r.stdout).toMatch(/^workflow\s+gated v\d+ \(wf_\S+\)$/m);
    expect(r.stdout).toMatch(/^status\s+waiting — "check" waiting for approval$/m);
    expect(r.stdout).toMatch(/^inputs\s+\{"topic":"moths"\}$/m);
    const table = r.stdout.slice(r.stdout.indexOf('\nstep'));
    const rows = cells(table.slice(0, table.indexOf('\n\nNext:')).trim());
    expect(rows[0]).toEqual(['step', 'status', 'attempts', 'cost', 'output']);
    expect(rows.slice(1).map((x) => x.slice(0, 3))).toEqual([
      ['draft', 'succeeded', '1'],
      ['check', 'waiting', '0'],
      ['final', 'pending', '0'],
    ]);
    expect(rows[1]![3]).toMatch(/^\$0\.\d{6}$/);
    expect(rows[1]![4]).toMatch(/^A long draft\. word word .*… \(\d+ more characters\)$/);
    expect(r.stdout).not.toContain('word '.repeat(100));
    // What to do next, as commands to copy.
    expect(r.stdout).toContain(`quorum runs approve ${run.id} check --server ${gw.url}`);
    expect(r.stdout).toContain(`quorum runs reject ${run.id} check --reason "…" --server ${gw.url}`);

    const json = await runs(['show', run.id, '--json', ...at()]);
    const view = JSON.parse(json.stdout);
    expect(view.steps.draft.output).toBe(long);
    expect(view).toMatchObject({ id: run.id, status: 'waiting' });
  });

  it("prints the server's message for an unknown run, exit 1", async () => {
    const r = await runs(['show', 'run_nope', ...at()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('quorum runs show: No run with id `run_nope`.\n');
    expect(r.stdout).toBe('');
  });
});

describe('quorum runs events', () => {
  it('prints the events so far as readable lines and exits, pointing at --follow', async () => {
    const { run } = await start(GATED(), { topic: 'newts' });
    const r = await runs(['events', run.id, ...at()]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.every((l) => /^\d\d:\d\d:\d\d\.\d{3} {2}\S/.test(l))).toBe(true);
    expect(lines.map((l) => l.slice(14))).toEqual([
      expect.stringMatching(new RegExp(`^run ${run.id} of gated v\\d+ started$`)),
      '▶ draft started',
      expect.stringMatching(/^✓ draft \(\d+\.\d s, \$\d\.\d{6}\)$/),
      '⏸ check waiting for approval',
    ]);
    expect(r.stderr).toContain(`quorum runs events ${run.id} --follow --server ${gw.url}\` keeps watching`);
  });

  it('--follow prints events live until the run has ended', async () => {
    const { run } = await start(GATED(), { topic: 'voles' });
    const following = runs(['events', run.id, '--follow', ...at()]);
    await api('POST', `/v1/runs/${run.id}/steps/check/approve`, JSON.stringify({ approved: true }));
    const r = await following;
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.slice(14));
    expect(lines.slice(3)).toEqual([
      '⏸ check waiting for approval',
      '✓ check approved',
      '▶ final started',
      expect.stringMatching(/^✓ final \(/),
      '✓ run succeeded',
    ]);
  });

  it('--json prints each event as the stream sends it, one per line', async () => {
    const { run } = await start(PLAIN);
    const r = await runs(['events', run.id, '--json', ...at()]);
    const events = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      'step.started',
      'step.succeeded',
      'run.succeeded',
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('approve, reject, rerun and cancel', () => {
  it('approve releases the step with a comment, and the run goes on to succeed', async () => {
    const { run } = await start(GATED(), { topic: 'hares' });
    const r = await runs(['approve', run.id, 'check', '--comment', 'figures checked', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^✓ approved check of run ${run.id}: the run is (running|succeeded)$`, 'm'),
    );
    const after = await engine.wait(run.id);
    expect(after.status).toBe('succeeded');
    expect(after.steps.check!.output).toEqual({ approved: true, comment: 'figures checked' });
  });

  it('reject fails the step with the reason, and the run with it', async () => {
    const { run } = await start(GATED(), { topic: 'stoats' });
    const r = await runs(['reject', run.id, 'check', '--reason', 'too thin', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`✗ rejected check of run ${run.id} (too thin): the run failed\n`);
    const after = await store.workflows.getRun(run.id);
    expect(after!.status).toBe('failed');
    expect(after!.steps.check!.error).toBe('not approved: too thin');
  });

  it('rerun --from runs the step and those after it again: the gate waits again', async () => {
    const { run } = await start(GATED(), { topic: 'shrews' });
    await runs(['reject', run.id, 'check', ...at()]);
    const r = await runs(['rerun', run.id, '--from', 'draft', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^↻ re-running draft and the steps after it \\(check, final\\) of run ${run.id}: the run is running$`,
        'm',
      ),
    );
    const after = await engine.wait(run.id);
    expect(after.status).toBe('waiting');
    expect(after.steps.check!.status).toBe('waiting');
    expect(after.steps.draft!.attempts).toBeGreaterThanOrEqual(1);

    const missing = await runs(['rerun', run.id, ...at()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--from <step> is required/);
  });

  it('cancel stops a waiting run; again says it already is; a finished run is left alone (exit 1)', async () => {
    const { run } = await start(GATED(), { topic: 'mice' });
    const r = await runs(['cancel', run.id, ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^✗ cancelled run ${run.id}`));
    expect((await store.workflows.getRun(run.id))!.status).toBe('cancelled');
    const again = await runs(['cancel', run.id, ...at()]);
    expect(again).toMatchObject({ code: 0, stdout: `Run ${run.id} was already cancelled.\n` });

    const finished = (await start(PLAIN)).run;
    const late = await runs(['cancel', finished.id, ...at()]);
    expect(late.code).toBe(1);
    expect(late.stderr).toBe(
      `quorum runs cancel: run ${finished.id} has already succeeded; there is nothing to cancel.\n`,
    );
  });

  it("prints the server's refusal of a step that is not waiting, exit 1", async () => {
    const finished = (await start(GATED(), { topic: 'rats' })).run;
    await runs(['approve', finished.id, 'check', ...at()]);
    await engine.wait(finished.id);
    const r = await runs(['approve', finished.id, 'check', ...at()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('quorum runs approve: step "check" is not an approval waiting for a person\n');
  });
});

describe('which gateway and which key', () => {
  it('reads QUORUM_URL and QUORUM_KEY when no flag is given', async () => {
    const { run } = await start(PLAIN);
    vi.stubEnv('QUORUM_URL', gw.url);
    vi.stubEnv('QUORUM_KEY', KEY);
    try {
      const r = await runs(['show', run.id]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(run.id);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("sends QUORUM_MASTER_KEY when there is no QUORUM_KEY: the operator sees every team's runs", async () => {
    const theirs = (await start(PLAIN, {}, OTHER_KEY)).run;
    const mine = await runs(['list', '--limit', '100', ...at()]);
    expect(mine.stdout).not.toContain(theirs.id);
    vi.stubEnv('QUORUM_URL', gw.url);
    vi.stubEnv('QUORUM_KEY', '');
    vi.stubEnv('QUORUM_API_KEY', '');
    vi.stubEnv('QUORUM_MASTER_KEY', MASTER);
    try {
      const all = await runs(['list', '--limit', '100']);
      expect(all.code).toBe(0);
      expect(all.stdout).toContain(theirs.id);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a refused key prints the message and how to pass one, exit 1', async () => {
    const r = await runs(['list', '--server', gw.url, '--key', 'sk-wrong-key-12345']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^quorum runs list: Incorrect API key provided\. \(pass --key, or set QUORUM_KEY;/,
    );
  });

  it('no gateway listening: says so and how to start one, exit 1', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const r = await runs(['list', '--server', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `quorum runs list: no gateway at ${url}: start it with \`npm start\` or pass --server\n`,
    );
    vi.stubEnv('QUORUM_URL', url);
    try {
      const fromEnv = await runs(['show', 'run_x']);
      expect(fromEnv.stderr).toContain(`no gateway at ${url}`);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('usage and help', () => {
  it.each([
    [[], /expected a subcommand: list, show, events, approve, reject, rerun or cancel/],
    [['frob'], /unknown subcommand "frob"/],
    [['show'], /expected <run>: quorum runs show <run>/],
    [['approve', 'run_x'], /expected <run> <step>/],
    [['show', 'run_x', 'extra'], /unexpected argument "extra"/],
    [['list', '--follow'], /--follow does not apply to `runs list`/],
    [['approve', 'run_x', 'check', '--reason', 'x'], /--reason does not apply to `runs approve`/],
  ])('%j exits 2, pointing at --help', async (argv, message) => {
    const r = await runs(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('--help');
  });

  it('runs --help teaches every subcommand with examples', async () => {
    const r = await runs(['--help']);
    expect(r).toMatchObject({ code: 0, stdout: RUNS_HELP });
    for (const sub of ['list', 'show', 'events', 'approve', 'reject', 'rerun', 'cancel']) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}quorum runs ${sub} `, 'm'));
    }
    for (const text of [
      '--server',
      'QUORUM_URL',
      'QUORUM_KEY',
      'QUORUM_MASTER_KEY',
      'Examples:',
      'Exit codes',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });

  it.each(['list', 'show', 'events', 'approve', 'reject', 'rerun', 'cancel'])(
    'runs %s --help (and runs help <it>) explains it with examples',
    async (sub) => {
      const r = await runs([sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: quorum runs ${sub}`, 'm'));
      expect(r.stdout).toContain('Examples:');
      expect((await runs(['help', sub])).stdout).toBe(r.stdout);
    },
  );

  it('the top-level help lists runs', () => {
    const r = quorum(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}runs {2,}list, show, follow, approve\/reject/m);
    expect(r.stdout).toContain('QUORUM_URL');
  });
});
