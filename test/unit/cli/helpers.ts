import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const NODE = join(ROOT, 'node_modules/.bin/node');

/** The environment of a user with no provider keys and no Quorum settings. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/API_KEY$|^OPENAI_|^ANTHROPIC_|^GEMINI_|^GOOGLE_|^QUORUM_|^OTEL_|^PORT$|^HOST$/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs the real CLI (`node src/cli/main.ts ...`) from the repository root. */
export function quorum(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  cwd = ROOT,
): SpawnSyncReturns<string> {
  return spawnSync(NODE, [join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 15_000,
  });
}

/** A scratch directory for config files; call `cleanup()` in afterAll. */
export function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-cli-'));
  return {
    dir,
    file(name: string, text: string): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const BAD_CONFIG = [
  'providers:',
  '  - { id: openai, type: openai, api_key: sk-x }',
  '  - { id: openai, type: openai, api_key: sk-y }',
  'models:',
  '  - { id: gpt-4o-mini, provider: openai }',
  '  - { id: gpt-6-luna, provider: openai }',
  '  - { id: custom, provider: openai, context_window: 10, max_output_tokens: 10, price: { input: free, output: 1 } }',
  'keys:',
  '  - { key: sk-team-key-1, team: nobody }',
  '',
].join('\n');

/** Runs an in-process command with stdout and stderr captured (and restored afterwards). */
export async function captureOutput(command: () => Promise<number>) {
  const { vi } = await import('vitest');
  let stdout = '';
  let stderr = '';
  const capture = (sink: (s: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((s) => (stdout += s)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((s) => (stderr += s)));
  try {
    const code = await command();
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/**
 * A Postgres schema of its own on the test server (QUORUM_TEST_POSTGRES_URL), reached by a URL whose
 * search_path selects it — the form a user passes in QUORUM_DATABASE_URL. `drop()` removes it.
 */
export async function postgresSchema(prefix: string, options: { password?: string } = {}) {
  const { default: pg } = await import('pg');
  const { randomBytes } = await import('node:crypto');
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: process.env.QUORUM_TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const u = new URL(process.env.QUORUM_TEST_POSTGRES_URL!);
  if (options.password !== undefined) u.password = options.password;
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: u.toString(),
    schema,
    /** A query on the test server, outside the store (to check what the command wrote). */
    query: (sql: string) => admin.query(sql),
    async drop() {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}
