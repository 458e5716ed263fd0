/**
 * Every example in README.md and docs/*.md runs as written on a fresh install: a no-config
 * `quorum serve` (the built-in demo provider, no keys), started as `npm start` starts it.
 *
 * One test per runnable fenced block, named `<file>:<line>`, run in document order. Each file gets a
 * fresh server (per mode, below) that its blocks share, so a later block may use what an earlier one
 * of the same file made — a team, a key, a stored workflow:
 *
 * - ```sh / ```bash: bash with `set -euo pipefail`, from the repository root (so `npm run -s quorum --`,
 *   `npx quorum` and `examples/…` work). `localhost:8080` and `127.0.0.1:8080` point at the test's
 *   server, and `PORT` is its port. Passes when the script exits 0 and no curl in it got an HTTP
 *   status of 400 or more. A block that mentions `QUORUM_MASTER_KEY` runs against a second server
 *   started with that variable set (and has it set); CLI commands use the server's database
 *   (`QUORUM_DATABASE_URL`).
 * - ```ts: an ES module at the repository root (so `openai` resolves), run with the project's Node;
 *   passes when it exits 0 (the SDK throws on an HTTP error).
 * - ```yaml: a block with top-level `steps:` is a workflow definition: it must pass the workflow parser
 *   and checker, and the demo gateway must store it (its models exist there). Any other YAML block is a
 *   configuration, loaded by the real loader with `${VAR}`s given dummy values: it must load with
 *   provider keys set (the real catalog) or with none (the demo).
 * - ```json, ```jsonc, ```text and bare fences show output or shapes and are not run. Any other
 *   language fails the inventory test until it is run here or marked not run.
 *
 * Directives, on the line(s) just above a fence:
 *
 * - `<!-- not run: <reason> -->` — the block cannot run on a fresh install (needs provider keys, runs
 *   for minutes, starts the server itself). No test is made for it; one test lists every such block and
 *   keeps their number small.
 * - `<!-- expect: 404 -->`, `<!-- expect: 4xx -->`, `<!-- expect: 403, 429 -->` — the example shows an
 *   error on purpose: its HTTP answers may have these statuses, and at least one must (a ts block may
 *   then exit non-zero, as the SDK throws, if its output names such a status).
 * - `<!-- expect: exit 2 -->` — the block must exit with this code (a CLI refusing a bad input).
 *
 * A shell block that would reinstall the dependencies (`npm ci`), start a server that never exits
 * (`npm start`, `quorum serve`), run the test suite or the benchmark, or use docker fails without being
 * run until it is marked not run: run here, it would pull node_modules from under every other test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { collectBlocks, type DocBlock, parseBlocks } from './helpers/docs-blocks.ts';
import {
  type BlockOutcome,
  checkConfig,
  checkWorkflow,
  type DocServer,
  isWorkflow,
  ROOT,
  runShell,
  runTypeScript,
  startDocServer,
  unsafeReason,
} from './helpers/docs-run.ts';

/** Blocks marked not run, at most: each one is an example a reader cannot check by trying it. */
const MAX_NOT_RUN = 8;
const MASTER_KEY = 'docs-examples-master-key';

const blocks = collectBlocks(ROOT);
const runnable = blocks.filter((b) => !b.notRun && (b.kind === 'sh' || b.kind === 'ts' || b.kind === 'yaml'));

// Each file is read on its own fresh install: its blocks share a server per mode (open, and with the
// master key), started when its first block needs one and stopped when the next file begins, so one
// file's team "design" does not collide with another's.
type Mode = 'open' | 'master';
let current: { file: string; servers: Map<Mode, Promise<DocServer>> } | undefined;

async function stopServers(): Promise<void> {
  const servers = current ? [...current.servers.values()] : [];
  current = undefined;
  for (const s of servers) await (await s.catch(() => null))?.stop();
}

async function server(file: string, mode: Mode): Promise<DocServer> {
  if (current?.file !== file) {
    await stopServers();
    current = { file, servers: new Map() };
  }
  let s = current.servers.get(mode);
  if (!s) {
    s = startDocServer(mode === 'master' ? { masterKey: MASTER_KEY } : {});
    current.servers.set(mode, s);
  }
  return s;
}

afterAll(stopServers);

const usesMasterKey = (b: DocBlock) => b.text.includes('QUORUM_MASTER_KEY');

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function report(block: DocBlock, outcome: BlockOutcome, srv: DocServer): string {
  return [
    `${block.file}:${block.line} (${block.lang}) ${outcome.timedOut ? 'timed out' : `exited ${outcome.exitCode}`}`,
    outcome.statuses.length ? `HTTP statuses: ${outcome.statuses.join(', ')}` : '',
    `--- stdout\n${tail(outcome.stdout)}`,
    `--- stderr\n${tail(outcome.stderr)}`,
    `--- server log (last lines)\n${tail(srv.output(), 10)}`,
  ]
    .filter(Boolean)
    .join('\n');
}

function checkOutcome(block: DocBlock, outcome: BlockOutcome, srv: DocServer): void {
  const why = () => report(block, outcome, srv);
  expect(outcome.timedOut, why()).toBe(false);
  const allowed = block.expectStatus;
  if (allowed) {
    const matches = (s: number) => allowed.some((r) => r.test(String(s)));
    if (block.kind === 'ts') {
      const statusShown = (outcome.stdout + outcome.stderr).match(/\b[1-5]\d\d\b/g)?.map(Number) ?? [];
      expect(outcome.exitCode === 0 || statusShown.some(matches), why()).toBe(true);
      return;
    }
    expect(
      outcome.statuses.some(matches),
      `expected an HTTP status matching ${block.expectStatus}\n${why()}`,
    ).toBe(true);
    expect(
      outcome.statuses.filter((s) => s >= 400 && !matches(s)),
      why(),
    ).toEqual([]);
  } else {
    expect(
      outcome.statuses.filter((s) => s >= 400),
      why(),
    ).toEqual([]);
  }
  expect(outcome.exitCode, why()).toBe(block.expectExit ?? 0);
}

async function runBlock(block: DocBlock): Promise<void> {
  if (block.kind === 'yaml') {
    if (!isWorkflow(block.text)) {
      expect(
        checkConfig(block.text).join('\n'),
        `${block.file}:${block.line} is not a valid configuration`,
      ).toBe('');
      return;
    }
    expect(checkWorkflow(block.text).join('\n'), `${block.file}:${block.line} is not a valid workflow`).toBe(
      '',
    );
    // The demo gateway must accept it too: every model it names exists there.
    const srv = await server(block.file, 'open');
    const res = await fetch(`${srv.url}/v1/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: block.text,
    });
    expect(
      res.status,
      `the demo gateway refused ${block.file}:${block.line}: ${await res.text()}`,
    ).toBeLessThan(300);
    return;
  }
  const unsafe = block.kind === 'sh' ? unsafeReason(block.text) : undefined;
  if (unsafe) {
    expect.fail(`${block.file}:${block.line} ${unsafe}: mark it <!-- not run: … --> (not run here)`);
  }
  const srv = await server(block.file, usesMasterKey(block) ? 'master' : 'open');
  const outcome = block.kind === 'sh' ? await runShell(block, srv) : await runTypeScript(block, srv);
  checkOutcome(block, outcome, srv);
}

describe('examples in README.md and docs/*.md', () => {
  it('found the README and its blocks', () => {
    expect(blocks.some((b) => b.file === 'README.md' && b.kind === 'sh')).toBe(true);
    expect(blocks.some((b) => b.file === 'README.md' && b.kind === 'ts')).toBe(true);
  });

  it('every fenced block is run, shown output, or marked not run', () => {
    const unknown = blocks.filter((b) => b.kind === 'unknown' && !b.notRun);
    expect(
      unknown.map((b) => `${b.file}:${b.line}: \`\`\`${b.lang} is neither run nor shown output`),
    ).toEqual([]);
  });

  const notRun = blocks.filter((b) => b.notRun).map((b) => `${b.file}:${b.line} (${b.notRun})`);
  it(`${notRun.length} blocks not run, at most ${MAX_NOT_RUN}: ${notRun.join('; ')}`, () => {
    expect(notRun.length, `blocks not run:\n${notRun.join('\n')}`).toBeLessThanOrEqual(MAX_NOT_RUN);
  });

  for (const block of runnable) {
    it(`${block.file}:${block.line}`, () => runBlock(block), 120_000);
  }
});

describe('the example runner', () => {
  const md = [
    '<!-- not run: needs a real key -->',
    '```sh',
    'curl https://api.openai.com/v1/models',
    '```',
    '',
    '<!-- expect: 404, 4x9 -->',
    '',
    '```sh',
    'curl -s localhost:8080/v1/chat/completions -d x',
    '```',
    '- a list item with an indented block:',
    '  ```ts',
    '  console.log(1);',
    '  ```',
    '```',
    'bare output',
    '```',
    '<!-- expect: exit 2 -->',
    '```python',
    'print(1)',
    '```',
  ].join('\n');

  it("reads the directives above each fence, and each fence's kind", () => {
    const parsed = parseBlocks('x.md', md);
    expect(parsed.map((b) => [b.line, b.kind, b.notRun, b.expectExit])).toEqual([
      [2, 'sh', 'needs a real key', undefined],
      [8, 'sh', undefined, undefined],
      [12, 'ts', undefined, undefined],
      [15, 'shown', undefined, undefined],
      [19, 'unknown', undefined, 2],
    ]);
    expect(
      parsed[1]!.expectStatus!.map((r) => ['404', '429', '409', '400'].filter((c) => r.test(c))),
    ).toEqual([['404'], ['429', '409']]);
    expect(parsed[2]!.text).toBe('console.log(1);\n');
  });

  it('fails a shell block whose curl got an HTTP error, although curl -s exits 0', async () => {
    const block = parseBlocks(
      '(runner)',
      '```sh\ncurl -s localhost:8080/v1/chat/completions -H \'content-type: application/json\' -d \'{"model": "claude-sonnet", "messages": [{"role": "user", "content": "hi"}]}\'\n```\n',
    )[0]!;
    const srv = await server('(runner)', 'open');
    const outcome = await runShell(block, srv);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.statuses).toEqual([404]);
    expect(() => checkOutcome(block, outcome, srv)).toThrow(/HTTP statuses: 404/);
    expect(() => checkOutcome({ ...block, expectStatus: [/^4\d\d$/] }, outcome, srv)).not.toThrow();
  });

  it('refuses to run a block that would reinstall the dependencies', () => {
    expect(unsafeReason('npm ci && npm start')).toBe('reinstalls the dependencies');
    expect(unsafeReason('npm run -s quorum -- route --body -')).toBeUndefined();
  });
});
