/**
 * The child processes of the bench phases (bench/run.ts, bench/fanout.ts, bench/limits.ts): fake
 * upstreams and gateways (`node src/cli/main.ts serve`), and the temp directories holding their configs.
 *
 * A phase makes a ChildGroup (a temp directory, then its children) and closes it when done. Every child
 * and temp directory is also registered here, once per process: on exit (normal, failure or signal) the
 * children still running are killed and the directories removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type Log = (msg: string) => void;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolveP(port));
    });
  });
}

/** Extra node flags for the gateway children, e.g. BENCH_GATEWAY_NODE_OPTIONS="--max-old-space-size=96". */
export function gatewayNodeFlagsFromEnv(): string[] {
  return (process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
}

// ---------------------------------------------------------------------------------------------- cleanup

const children = new Set<ChildProcess>();
/** Children stopped on purpose: their exit is not reported as unexpected. */
const stopped = new WeakSet<ChildProcess>();
const tempDirs = new Set<string>();
let exiting = false;

process.once('exit', () => {
  exiting = true;
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** SIGINT / SIGTERM end the process (exit code 130); the exit handler above cleans up. */
export function exitOnSignals(log?: Log): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log?.(`${sig}: stopping`);
      exiting = true;
      process.exit(130);
    });
  }
}

/** A temp directory, removed by removeTempDir() or on exit. */
function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir: string | undefined): void {
  if (!dir) return;
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

// ---------------------------------------------------------------------------------------------- children

/** `node <args>` in the repo root; an exit not asked for is logged with the child's stderr tail. */
function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, log: Log): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!exiting && !stopped.has(child)) {
      log(`${name} exited unexpectedly (code ${code}, signal ${signal})`);
      if (stderr.trim()) log(`${name} stderr:\n${stderr.trim()}`);
    }
  });
  return child;
}

/** SIGTERM, wait up to `ms`, then SIGKILL. */
export async function stopChild(child: ChildProcess, ms = 5000): Promise<void> {
  stopped.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

/** Lines from a child's stdout, one at a time; rejects once the child has exited. */
function lineReader(child: ChildProcess, name: string) {
  const lines: string[] = [];
  const waiters: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w.resolve(line);
      else lines.push(line);
    }
  });
  child.once('exit', () => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${name} exited before answering`));
  });
  return (timeoutMs: number) =>
    new Promise<string>((resolveP, reject) => {
      const ready = lines.shift();
      if (ready !== undefined) return resolveP(ready);
      if (child.exitCode !== null || child.signalCode !== null)
        return reject(new Error(`${name} exited before answering`));
      const waiter = {
        resolve: (line: string) => {
          clearTimeout(timer);
          resolveP(line);
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for the ${name}`));
      }, timeoutMs);
      waiters.push(waiter);
    });
}

export interface Upstream {
  child: ChildProcess;
  url: string;
  /** The whole first stdout line (`{"port": N, …}`). */
  info: Record<string, unknown>;
  /** The child's next stdout line (after the `{"port": N}` one). */
  nextLine: (timeoutMs: number) => Promise<string>;
}

export interface Gateway {
  child: ChildProcess;
  url: string;
  /** performance.now() right after the spawn. */
  spawnedAt: number;
  /** Resolves once GET /readyz answers 2xx. */
  ready(timeoutMs?: number): Promise<void>;
  /** Polls GET /healthz every 5 ms; resolves with the ms from the spawn to its first 2xx. */
  listening(timeoutMs?: number): Promise<number>;
}

/** A server of someone else's (a peer gateway, the floor proxy) started by the bench. */
export interface Peer {
  child: ChildProcess;
  url: string;
  spawnedAt: number;
  /** Polls GET `probePath` every 5 ms; resolves with the ms from the spawn to its first 2xx. */
  listening(timeoutMs?: number): Promise<number>;
}

export interface GatewayOptions {
  name: string;
  configPath: string;
  /** The CLI to run: the sources (default, src/cli/main.ts) or the compiled build (dist/src/cli/main.js). */
  entry?: string;
  nodeFlags?: string[];
  /** Added to the gateway's environment; undefined removes a variable. */
  env?: Record<string, string | undefined>;
}

// ---------------------------------------------------------------------------------------------- group

/**
 * A bench gateway's environment: the caller's, with logging silenced, NODE_ENV=production, the store in
 * `dbPath`, and without the caller's master key, config path or OTel exporter.
 */
export function gatewayEnv(dbPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QUORUM_LOG_LEVEL: 'silent',
    NODE_ENV: 'production',
    QUORUM_DATABASE_URL: `sqlite:${dbPath}`,
  };
  for (const k of [
    'QUORUM_MASTER_KEY',
    'QUORUM_CONFIG',
    'OTEL_TRACES_EXPORTER',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
  ])
    delete env[k];
  return env;
}

/** The children of one bench phase and its temp directory, stopped and removed together by close(). */
export class ChildGroup {
  /** The temp directory for configs and stores. */
  readonly dir: string;
  private readonly log: Log;
  private readonly members: ChildProcess[] = [];
  private gateways = 0;

  constructor(tempPrefix: string, log: Log) {
    this.log = log;
    this.dir = makeTempDir(tempPrefix);
  }

  private start(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const child = startChild(name, args, env, this.log);
    this.members.push(child);
    return child;
  }

  /** A fake upstream script (bench/fake-server.ts protocol), once it has printed its port. */
  async upstream(
    name: string,
    script: string,
    env: NodeJS.ProcessEnv = { ...process.env },
  ): Promise<Upstream> {
    const child = this.start(name, [script], env);
    const nextLine = lineReader(child, name);
    const info = JSON.parse(await nextLine(15_000)) as { port: number };
    return { child, url: `http://127.0.0.1:${info.port}`, info, nextLine };
  }

  /**
   * `node [nodeFlags] src/cli/main.ts serve --config <configPath>` on a free port, logging silenced and
   * NODE_ENV=production, without the caller's master key, config path or OTel exporter, with a store of
   * its own in the temp directory; not waited for (ready()), so several can start together.
   */
  async gateway(options: GatewayOptions): Promise<Gateway> {
    const port = await freePort();
    // Each gateway gets a store of its own in the group's temp directory (a caller's env may name
    // another): never the caller's database, and no run inherits the rows of the one before.
    const env = gatewayEnv(join(this.dir, `gateway-${++this.gateways}.db`));
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = this.start(
      options.name,
      [
        ...(options.nodeFlags ?? []),
        options.entry ?? 'src/cli/main.ts',
        'serve',
        '--config',
        options.configPath,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
      ],
      env,
    );
    const spawnedAt = performance.now();
    const url = `http://127.0.0.1:${port}`;
    return {
      child,
      url,
      spawnedAt,
      ready: (timeoutMs = 20_000) => waitReady(options.name, url, child, timeoutMs),
      listening: (timeoutMs = 20_000) =>
        waitListening(options.name, `${url}/healthz`, child, spawnedAt, timeoutMs),
    };
  }

  /**
   * `node <args(port)>` on a free port with exactly `env` (nothing of the caller's environment), its
   * stdout drained; `probePath` is what listening() polls.
   */
  async peer(options: {
    name: string;
    args: (port: number) => string[];
    env: NodeJS.ProcessEnv;
    probePath: string;
  }): Promise<Peer> {
    const port = await freePort();
    const child = this.start(options.name, options.args(port), options.env);
    const spawnedAt = performance.now();
    child.stdout?.resume();
    const url = `http://127.0.0.1:${port}`;
    return {
      child,
      url,
      spawnedAt,
      listening: (timeoutMs = 30_000) =>
        waitListening(options.name, `${url}${options.probePath}`, child, spawnedAt, timeoutMs),
    };
  }

  /** Stops the children still running (SIGTERM, SIGKILL after `ms`) and removes the temp directory. */
  async close(ms = 2000): Promise<void> {
    await Promise.all(this.members.map((c) => stopChild(c, ms).catch(() => {})));
    removeTempDir(this.dir);
  }
}

async function waitReady(name: string, url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with code ${child.exitCode} before becoming ready`);
    try {
      const r = await fetch(`${url}/readyz`);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms`);
}

/** Start-up time: polls `probeUrl` every 5 ms until a 2xx; the ms since `spawnedAt`. */
async function waitListening(
  name: string,
  probeUrl: string,
  child: ChildProcess,
  spawnedAt: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = spawnedAt + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited with code ${child.exitCode} before listening`);
    try {
      const r = await fetch(probeUrl);
      await r.arrayBuffer();
      if (r.ok) return performance.now() - spawnedAt;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  throw new Error(`${name} not listening after ${timeoutMs} ms`);
}

// ---------------------------------------------------------------------------------------------- alone

/** Whether the module at `moduleUrl` is the script node was started with. */
/**
 * The compiled build (`npm run build`) if it is there and newer than every source file — the one
 * `npm start` and the Docker image run — else why not.
 */
export function freshBuild(): { entry: string } | { note: string } {
  const built = join(ROOT, 'dist', 'BUILT');
  const entry = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(built) || !existsSync(entry)) return { note: 'no dist/ (npm run build)' };
  const newest = (path: string): number => {
    const st = statSync(path);
    if (!st.isDirectory()) return st.mtimeMs;
    return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  const builtAt = statSync(built).mtimeMs;
  const stale = ['src', 'routing', 'consensus', join('config', 'models.yaml')].filter(
    (p) => existsSync(join(ROOT, p)) && newest(join(ROOT, p)) > builtAt,
  );
  return stale.length ? { note: `dist/ is older than ${stale.join(', ')}` } : { entry };
}

export const isMain = (moduleUrl: string) =>
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(moduleUrl);

/**
 * A bench phase run on its own (`node bench/<phase>.ts [--quick] [--json]`): prints its table (and the
 * result as JSON with --json), exits 0, or 1 with the error.
 */
export function runAlone<R>(
  tag: string,
  run: (options: { quick: boolean; nodeFlags: string[] }) => Promise<R>,
  table: (result: R) => string[],
): void {
  const args = process.argv.slice(2);
  exitOnSignals();
  run({ quick: args.includes('--quick'), nodeFlags: gatewayNodeFlagsFromEnv() }).then(
    (result) => {
      process.stdout.write(['', ...table(result), '', ''].join('\n'));
      if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(
        `[${tag}] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
