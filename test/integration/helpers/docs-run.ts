/**
 * Runs documentation examples the way a reader would: a no-config `quorum serve` started as a user
 * starts it, shell blocks in bash from the repository root, TypeScript blocks as ES modules with the
 * project's Node, YAML blocks through the real configuration loader and workflow parser.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';
import { parseDefinition } from '../../../src/workflows/definition/index.ts';
import type { DocBlock } from './docs-blocks.ts';

export const ROOT = resolve(import.meta.dirname, '../../..');
/** The project's Node 24, which `npm ci` installs; ts examples run with it. */
const NODE = join(ROOT, 'node_modules/.bin/node');
const BLOCK_TIMEOUT_MS = 90_000;

export interface DocServer {
  port: number;
  url: string;
  databaseUrl: string;
  masterKey?: string;
  output(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/**
 * The environment a reader's shell has after a fresh clone: no provider keys, no QUORUM_CONFIG, no
 * npm_* variables from the test runner.
 */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TERM']) {
    if (process.env[name]) env[name] = process.env[name];
  }
  return { ...env, ...extra };
}

/**
 * `node src/cli/main.ts serve` with PORT set, as `npm start` runs it, from an empty directory so no
 * `config/quorum.yaml` is picked up; its database is a fresh SQLite file.
 */
export async function startDocServer(options: { masterKey?: string } = {}): Promise<DocServer> {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-docs-server-'));
  // The free port found may be taken by another test before the server binds it: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), dir, options);
    } catch (err) {
      if (attempt === 3 || !/EADDRINUSE/.test((err as Error).message)) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

async function startOn(port: number, dir: string, options: { masterKey?: string }): Promise<DocServer> {
  const databaseUrl = `sqlite:${join(dir, 'quorum.db')}`;
  const child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: dir,
    env: cleanEnv({
      PORT: String(port),
      QUORUM_DATABASE_URL: databaseUrl,
      ...(options.masterKey ? { QUORUM_MASTER_KEY: options.masterKey } : {}),
    }),
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d;
  });
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`quorum serve did not start:\n${out}`));
    }, 30_000);
    const check = () => {
      if (out.includes('Quorum listening on')) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`quorum serve exited with ${code}:\n${out}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    databaseUrl,
    ...(options.masterKey ? { masterKey: options.masterKey } : {}),
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise((done) => {
          child.once('exit', done);
          child.kill('SIGKILL');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What a shell block must never do to the checkout the tests run in: such a block has to be marked
 * not run, and the test fails without running it (an `npm ci` would reinstall node_modules under every
 * other test; a server would never exit).
 */
const UNSAFE: [RegExp, string][] = [
  [/\bnpm\s+(ci|install|i)\b/, 'reinstalls the dependencies'],
  [/\bnpm\s+(start|run\s+fakes)\b|\bquorum\s+serve\b/, 'starts a server that does not exit'],
  [/\bnpm\s+(test|run\s+test)\b|\bvitest\b/, 'runs the test suite'],
  [/\bnpm\s+run\s+bench\b/, 'runs the benchmark for minutes'],
  [/\bdocker\b/, 'needs docker'],
];

export function unsafeReason(text: string): string | undefined {
  return UNSAFE.find(([pattern]) => pattern.test(text))?.[1];
}

/** Points the example's `localhost:8080` / `127.0.0.1:8080` at the test's server. */
export function pointAt(text: string, port: number): string {
  return text.replace(/\b(localhost|127\.0\.0\.1):8080\b/g, `$1:${port}`);
}

export interface BlockOutcome {
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** HTTP status of each curl call, in order (shell blocks only). */
  statuses: number[];
}

function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<Omit<BlockOutcome, 'statuses'>> {
  return new Promise((done) => {
    const child: ChildProcess = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true, // its own process group, so a timeout ends everything it started
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, BLOCK_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      done({
        exitCode: null,
        timedOut,
        stdout,
        stderr: `${stderr}cannot start ${command}: ${err.message}\n`,
      });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ exitCode: code, timedOut, stdout, stderr });
    });
  });
}

/**
 * Prepended to every shell block: bash's strict mode, and a `curl` that records each answer's headers
 * (so the test sees every HTTP status) without changing what the reader sees on stdout or stderr.
 */
const SH_PREAMBLE = `set -euo pipefail
curl() { command curl -D "$(mktemp "$QUORUM_DOCS_HEADERS/h.$(date +%s%N).XXXXXX")" "$@"; }
export -f curl
`;

/** The last status line of each dumped header file (after any 100 Continue), oldest call first. */
function readStatuses(dir: string): number[] {
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const lines = readFileSync(join(dir, f), 'utf8').match(/^HTTP\/[\d.]+ (\d{3})/gm) ?? [];
      const last = lines.at(-1);
      return last ? Number(last.slice(-3)) : 0; // 0: no answer (curl's own exit code says why)
    })
    .filter((s) => s !== 0);
}

export async function runShell(block: DocBlock, server: DocServer): Promise<BlockOutcome> {
  const headers = mkdtempSync(join(tmpdir(), 'quorum-docs-curl-'));
  try {
    const script = SH_PREAMBLE + pointAt(block.text, server.port);
    const outcome = await runProcess('bash', ['-c', script], {
      cwd: ROOT,
      env: blockEnv(server, { QUORUM_DOCS_HEADERS: headers }),
    });
    return { ...outcome, statuses: readStatuses(headers) };
  } finally {
    rmSync(headers, { recursive: true, force: true });
  }
}

function blockEnv(server: DocServer, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    PORT: String(server.port),
    // `quorum runs` talks to a gateway: by default 127.0.0.1:8080, which here is the test's server.
    QUORUM_URL: `http://127.0.0.1:${server.port}`,
    // The CLI commands an example runs (keys, spend, run) use the running gateway's database.
    QUORUM_DATABASE_URL: server.databaseUrl,
    ...(server.masterKey ? { QUORUM_MASTER_KEY: server.masterKey } : {}),
    ...extra,
  });
}

/**
 * A TypeScript block as an ES module at the repository root, where a reader's script would import
 * `openai` from, run with the project's Node (type stripping, no compile step).
 */
export async function runTypeScript(block: DocBlock, server: DocServer): Promise<BlockOutcome> {
  const name = `.docs-example-${process.pid}-${block.line}-${Date.now()}.ts`;
  const file = join(ROOT, name);
  writeFileSync(file, pointAt(block.text, server.port));
  try {
    const outcome = await runProcess(NODE, [file], { cwd: ROOT, env: blockEnv(server) });
    return { ...outcome, statuses: [] };
  } finally {
    rmSync(file, { force: true });
  }
}

/** A YAML block is a workflow definition when it has top-level `steps:`; otherwise a configuration. */
export function isWorkflow(text: string): boolean {
  return /^steps\s*:/m.test(text);
}

/**
 * A configuration snippet, through the real loader. `${VAR}` references get distinct dummy values.
 * A snippet passes if it loads either with provider keys set (the real catalog's names) or with none
 * (the demo's names and presets). Returns the problems, empty when it loads.
 */
export function checkConfig(text: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-docs-config-'));
  try {
    const path = join(dir, 'quorum.yaml');
    writeFileSync(path, text);
    // `${VAR}` without a default gets a distinct dummy value; `${VAR:-default}` keeps its default.
    const vars: Record<string, string> = {};
    for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g))
      vars[m[1]!] = `dummy-${m[1]!.toLowerCase()}`;
    const keys = { OPENAI_API_KEY: 'sk-dummy', ANTHROPIC_API_KEY: 'sk-dummy', GEMINI_API_KEY: 'dummy' };
    const noKeys = Object.fromEntries(Object.entries(vars).filter(([name]) => !(name in keys)));
    const problems: string[] = [];
    for (const [label, env] of [
      ['with provider keys', { ...vars, ...keys }],
      ['with no keys (demo)', noKeys],
    ] as const) {
      try {
        loadConfig({ path, env: { ...env } });
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(`${label}:`, ...err.problems.map((p) => `  ${p}`));
      }
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A workflow definition, through the real parser and checker; the problems, empty when valid. */
export function checkWorkflow(text: string): string[] {
  const result = parseDefinition(text, 'yaml');
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}
