/**
 * The last-resort handler of the real `quorum serve`: an error that escapes every handler (thrown from
 * an event listener, or a promise rejected with no one awaiting it) is logged without secrets and
 * counted in /metrics, and the process keeps serving instead of taking every request down with it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from '../helpers/serve.ts';

const SECRET = 'sk-live-escaped0secret0value0123456789';
// Loaded before the CLI: on SIGUSR2 something escapes, as a bug in a timer or a listener would.
const PRELOAD = `process.on('SIGUSR2', () => {
  Promise.reject(new Error('nobody awaited this ${SECRET}'));
  throw new Error('thrown from a listener with ${SECRET}');
});`;

let server: ServeProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quorum-last-resort-'));
  writeFileSync(join(dir, 'preload.mjs'), PRELOAD);
  writeFileSync(
    join(dir, 'quorum.yaml'),
    ['providers: [{ id: demo, type: demo }]', 'models: [{ id: demo-smart, provider: demo }]'].join('\n'),
  );
  server = await spawnServe(['--config', join(dir, 'quorum.yaml')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
      NODE_OPTIONS: `--import=${join(dir, 'preload.mjs')}`,
    },
  });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const escapes = () =>
  server
    .output()
    .split('\n')
    .filter((l) => l.includes('escaped every handler'));

describe('an escaped error is logged and counted, and the process serves on', () => {
  it('survives an uncaught exception and an unhandled rejection', async () => {
    server.child.kill('SIGUSR2');
    await expect.poll(() => escapes().length, { timeout: 10_000 }).toBe(2);
    expect(server.child.exitCode).toBeNull();

    const kinds = escapes().map((l) => JSON.parse(l).kind);
    expect(kinds.sort()).toEqual(['uncaught_exception', 'unhandled_rejection']);
    expect(server.output()).not.toContain(SECRET);

    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo-smart', messages: [{ role: 'user', content: 'still there?' }] }),
    });
    expect(res.status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/quorum_escaped_errors_total\{kind="uncaught_exception"\} 1/);
    expect(metrics).toMatch(/quorum_escaped_errors_total\{kind="unhandled_rejection"\} 1/);
  });
});
