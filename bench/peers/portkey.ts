/**
 * The peer in the race: the Portkey AI gateway (npm `@portkey-ai/gateway`, TypeScript on Hono), installed
 * on demand into bench/.peers/portkey/ (git-ignored; never a dependency of Quorum's) and started as a
 * child process, bound to 127.0.0.1, pointed at the bench's fake upstream.
 *
 * - Version 1.15.2 streams correctly only with `@hono/node-server` 1.13.5 (an npm override in the peer
 *   folder's package.json). The range it asks for (^1.3.3) resolves to 1.19.x, with which every streamed
 *   request fails (`TypeError: immutable` appending a header; the client gets a 500).
 * - Its start script (build/start-server.js) listens on every interface and has only a `--port=N` flag,
 *   so the bench preloads bench/peers/loopback.ts, which rewrites the listen host to 127.0.0.1.
 * - No config file: each request names the provider and the upstream in Portkey's headers
 *   (`x-portkey-provider: openai`, `x-portkey-custom-host: http://127.0.0.1:<fake>/v1`); the
 *   `authorization` header goes upstream as the OpenAI key. 127.0.0.1 is on its default list of trusted
 *   custom hosts.
 * - `NODE_ENV=production` and `--headless`: no log-streaming UI routes, as a deployment would run it.
 *
 * If npm or the registry cannot be reached the install fails with a note, and the race runs without the
 * peer (its figures and ratios are reported as skipped).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ChildGroup, type Log, type Peer, ROOT } from '../children.ts';

export const PORTKEY_PACKAGE = '@portkey-ai/gateway';
export const PORTKEY_VERSION = '1.15.2';
/** The @hono/node-server that 1.15.2 streams correctly with. */
export const NODE_SERVER_PIN = '1.13.5';
export const PORTKEY_DIR = join(ROOT, 'bench', '.peers', 'portkey');
const ENTRY = join(PORTKEY_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
const INSTALL_TIMEOUT_MS = 180_000;

export type PortkeyInstall =
  | { ok: true; entry: string; installedNow: boolean; installS: number | null }
  | { ok: false; note: string };

function versionAt(dir: string): string | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

/** Null when the peer folder holds exactly the pinned pair, else what is off. */
function installProblem(): string | null {
  const modules = join(PORTKEY_DIR, 'node_modules');
  const gateway = versionAt(join(modules, '@portkey-ai', 'gateway'));
  if (gateway !== PORTKEY_VERSION) return `${PORTKEY_PACKAGE} is ${gateway ?? 'not installed'}`;
  if (!existsSync(ENTRY)) return 'build/start-server.js is missing';
  const nested = versionAt(join(modules, '@portkey-ai', 'gateway', 'node_modules', '@hono', 'node-server'));
  const nodeServer = nested ?? versionAt(join(modules, '@hono', 'node-server'));
  if (nodeServer !== NODE_SERVER_PIN) return `@hono/node-server is ${nodeServer ?? 'not installed'}`;
  return null;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    let out = '';
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, { cwd: PORTKEY_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: null, out: String(err) });
      return;
    }
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const timer = setTimeout(() => {
      out += `\n(killed after ${timeoutMs / 1000} s)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, out: `${out}\n${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * The pinned Portkey gateway in bench/.peers/portkey/, installed there first if it is not (npm, ~5 s
 * with a reachable registry). `BENCH_PORTKEY=0` skips the peer.
 */
export async function ensurePortkey(log: Log): Promise<PortkeyInstall> {
  if (process.env.BENCH_PORTKEY === '0') return { ok: false, note: 'skipped: BENCH_PORTKEY=0' };
  const problem = installProblem();
  if (problem === null) return { ok: true, entry: ENTRY, installedNow: false, installS: null };
  log(
    `peer: installing ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} (@hono/node-server pinned to ${NODE_SERVER_PIN}) into bench/.peers/portkey/ (${problem})`,
  );
  mkdirSync(PORTKEY_DIR, { recursive: true });
  writeFileSync(
    join(PORTKEY_DIR, 'package.json'),
    `${JSON.stringify(
      {
        name: 'quorum-bench-peer-portkey',
        private: true,
        description: 'Installed by npm run bench (bench/peers/portkey.ts); not part of Quorum.',
        dependencies: { [PORTKEY_PACKAGE]: PORTKEY_VERSION },
        overrides: { '@hono/node-server': NODE_SERVER_PIN },
      },
      null,
      2,
    )}\n`,
  );
  const t0 = performance.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const { code, out } = await run(
    npm,
    [
      'install',
      '--prefix',
      PORTKEY_DIR,
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--omit=dev',
      '--fetch-retries=1',
      '--fetch-timeout=30000',
      '--loglevel=error',
    ],
    INSTALL_TIMEOUT_MS,
  );
  const installS = Math.round((performance.now() - t0) / 100) / 10;
  const after = installProblem();
  if (code !== 0 || after !== null) {
    // npm's own summary line names the cause (a refused connection, a timeout, a missing version)
    const cause =
      /request to \S+ failed[^\n]*/.exec(out)?.[0] ??
      /npm error code \S+/.exec(out)?.[0] ??
      out.trim().split('\n').slice(-3).join(' | ');
    const tail = cause.replace(/\s+/g, ' ').slice(0, 300);
    return {
      ok: false,
      note: `could not install ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} (npm exit ${code}${after ? `; ${after}` : ''}): ${tail || 'no output'}`,
    };
  }
  log(`peer: installed in ${installS} s`);
  return { ok: true, entry: ENTRY, installedNow: true, installS };
}

/** Portkey's headers that send a request to the OpenAI-compatible upstream at `upstreamUrl`. */
export function portkeyHeaders(upstreamUrl: string): Record<string, string> {
  return {
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${upstreamUrl}/v1`,
  };
}

/** Starts the installed gateway on a free port of 127.0.0.1 (not waited for: see Peer.listening). */
export function startPortkey(group: ChildGroup, entry: string): Promise<Peer> {
  return group.peer({
    name: 'portkey gateway',
    args: (port) => [
      '--import',
      join(ROOT, 'bench', 'peers', 'loopback.ts'),
      entry,
      `--port=${port}`,
      '--headless',
    ],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production' },
    probePath: '/',
  });
}
