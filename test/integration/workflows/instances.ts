/**
 * Several real `quorum serve` processes on one Postgres (a schema of their own) and one Redis (a key
 * prefix of their own), against an in-process fake OpenAI that timestamps every call: what the
 * several-instances suites share.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { FakeServer, ReceivedRequest } from '../../fakes/harness.ts';
import { startFakeOpenAI } from '../../fakes/openai.ts';
import { type ServeProcess, spawnServe } from '../helpers/serve.ts';

export const POSTGRES_URL = process.env.QUORUM_TEST_POSTGRES_URL;
export const REDIS_URL = process.env.QUORUM_TEST_REDIS_URL;

/** The job lock the instances run with: short, so takeovers happen within the test. */
export const LOCK_MS = 2000;

export interface Instance extends ServeProcess {
  /** Its name in step states (`worker`) and takeover events: host:pid. */
  name: string;
  /** Requests over a fresh connection each (no keep-alive to a process that may be frozen). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
}

/** A call the fake received, with when it arrived. */
export interface Call {
  at: number;
  request: ReceivedRequest;
  prompt: string;
}

export interface Cluster {
  fake: FakeServer;
  calls: Call[];
  /** The store's schema, for reading it directly. */
  db: pg.Client;
  /** `workers`: `quorum serve --workers N` (its `name` is then the primary's, which runs no step). */
  start(options?: { concurrency?: number; workers?: number }): Promise<Instance>;
  /** Kills every instance still running (between tests: the next one's are then the only workers). */
  stopAll(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const id = randomBytes(4).toString('hex');
  const schema = `quorum_instances_${id}`;
  const prefix = `quorum-test-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'quorum-instances-'));
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.query(`set search_path to ${schema}`);
  const url = new URL(POSTGRES_URL!);
  url.searchParams.set('options', `-c search_path=${schema}`);

  const fake = await startFakeOpenAI();
  const calls: Call[] = [];
  const instances: Instance[] = [];

  const stopAll = async () => {
    for (const i of instances.splice(0)) {
      if (i.child.exitCode !== null || i.child.signalCode !== null) continue;
      i.child.kill('SIGCONT');
      await i.stop('SIGKILL');
    }
  };

  const configFor = (concurrency: number) => {
    const path = join(dir, `quorum-${concurrency}.yaml`);
    writeFileSync(
      path,
      [
        `providers: [{ id: up, type: openai, base_url: "${fake.url}/v1", api_key: k, max_retries: 0 }]`,
        'models: [{ id: m, provider: up, context_window: 100000, max_output_tokens: 1000, price: { input: 1, output: 1 }, capabilities: [json, streaming] }]',
        `workflows: { lock_ms: ${LOCK_MS}, concurrency: ${concurrency}, queue_prefix: ${prefix} }`,
      ].join('\n'),
    );
    return path;
  };

  return {
    fake,
    calls,
    db: admin,
    async start({ concurrency = 6, workers }: { concurrency?: number; workers?: number } = {}) {
      const args = ['--config', configFor(concurrency)];
      if (workers !== undefined) args.push('--workers', String(workers));
      const server = await spawnServe(args, {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          QUORUM_DATABASE_URL: url.toString(),
          QUORUM_REDIS_URL: REDIS_URL,
          QUORUM_LOG_LEVEL: 'info',
        },
        timeoutMs: 30_000,
      });
      const instance: Instance = {
        ...server,
        name: `${hostname()}:${server.child.pid}`,
        async api(method, path, body) {
          const res = await fetch(server.url + path, {
            method,
            headers: {
              connection: 'close',
              ...(body !== undefined && { 'content-type': 'application/json' }),
            },
            ...(body !== undefined && { body: JSON.stringify(body) }),
          });
          const text = await res.text();
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {}
          return { status: res.status, json };
        },
      };
      instances.push(instance);
      return instance;
    },
    stopAll,
    async cleanup() {
      await stopAll();
      await fake.close();
      await admin.query(`drop schema if exists ${schema} cascade`).catch(() => {});
      await admin.end();
      const redis = new Redis(REDIS_URL!);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Records each call with its arrival time, then answers as `reply` says. */
export function answer(
  cluster: Cluster,
  reply: (prompt: string, nth: number) => { text: string; latencyMs?: number; hang?: boolean },
): void {
  cluster.fake.respond((request) => {
    const prompt = JSON.stringify(request.body.messages);
    const nth = cluster.calls.filter((c) => c.prompt === prompt).length + 1;
    cluster.calls.push({ at: Date.now(), request, prompt });
    return { usage: { input: 10, output: 10 }, ...reply(prompt, nth) };
  });
}

export async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every step's stored state (with the internal `gen`, `takes`, `worker`), by run then step. */
export async function stepStates(db: pg.Client): Promise<Map<string, Record<string, any>>> {
  const { rows } = await db.query<{ run_id: string; step: string; state: string }>(
    'select run_id, step, state from run_steps',
  );
  const out = new Map<string, Record<string, any>>();
  for (const r of rows) {
    const steps = out.get(r.run_id) ?? {};
    steps[r.step] = JSON.parse(r.state);
    out.set(r.run_id, steps);
  }
  return out;
}

/** An SSE stream followed as a client would: its raw text so far, and its events. */
export function follow(url: string): { text: () => string; events: () => any[]; close: () => void } {
  const controller = new AbortController();
  let text = '';
  void (async () => {
    try {
      const res = await fetch(url, { signal: controller.signal });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
      }
    } catch {}
  })();
  return {
    text: () => text,
    events: () =>
      text
        .split('\n\n')
        .map((frame) => /^data: (.*)$/m.exec(frame)?.[1])
        .filter((d): d is string => d !== undefined)
        .map((d) => JSON.parse(d)),
    close: () => controller.abort(),
  };
}
