/**
 * `node bench/jobs.ts`: the job queue behind workflows on several instances (BullMQ over Redis, with
 * the settings src/workflows/jobs/step-queue.ts uses), measured for docs/decisions.md:
 *
 * - pick-up: a job queued → its processor running on an idle worker (one job at a time, N = 200);
 * - takeover: a worker process holding a job is killed with SIGKILL → the job running on the other
 *   worker (3 times per lock time). The lock lapses (lockMs after its last renewal) and the next stalled
 *   check (every lockMs / 2) hands the job on: expected between 1 × and 1.5 × lockMs.
 *
 * Needs Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379); uses keys of its own and removes them.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const ROOT = resolve(import.meta.dirname, '..');
const url = new URL(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
const prefix = `bench-jobs-${randomBytes(4).toString('hex')}`;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function pickUp(n: number): Promise<number[]> {
  const queue = new Queue('pickup', { connection, prefix });
  const started = new Map<string, (at: number) => void>();
  const worker = new Worker(
    'pickup',
    async (job) => {
      started.get(job.id!)?.(performance.now());
    },
    { connection, prefix, lockDuration: 10_000, stalledInterval: 5_000, drainDelay: 1 },
  );
  await worker.waitUntilReady();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Promise<number>((r) => started.set(`j${i}`, r));
    const t0 = performance.now();
    await queue.add('step', {}, { jobId: `j${i}`, removeOnComplete: true });
    out.push((await at) - t0);
  }
  await worker.close();
  await queue.close();
  return out;
}

/** A worker in another process that takes one job, says so, and then works on it forever. */
const HOLDER = `
import { Worker } from 'bullmq';
const [prefix, lockMs, host, port] = process.argv.slice(1);
new Worker('takeover', async () => { process.stdout.write('taken\\n'); await new Promise(() => {}); },
  { connection: { host, port: Number(port), maxRetriesPerRequest: null }, prefix, lockDuration: Number(lockMs),
    stalledInterval: Math.max(500, Math.floor(Number(lockMs) / 2)), maxStalledCount: 1000 });
`;

async function takeover(lockMs: number, i: number): Promise<number> {
  const name = 'takeover';
  const queue = new Queue(name, { connection, prefix: `${prefix}-${lockMs}-${i}` });
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      HOLDER,
      `${prefix}-${lockMs}-${i}`,
      String(lockMs),
      url.hostname,
      url.port || '6379',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const taken = new Promise<void>((r) => child.stdout!.on('data', (d) => String(d).includes('taken') && r()));
  await queue.add('step', {}, { jobId: 'one' });
  await taken;
  let killedAt = 0;
  const again = new Promise<number>((r) => {
    const worker = new Worker(
      name,
      async () => {
        r(performance.now() - killedAt);
        await worker.close(true).catch(() => {});
      },
      {
        connection,
        prefix: `${prefix}-${lockMs}-${i}`,
        lockDuration: lockMs,
        stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
        maxStalledCount: 1000,
        drainDelay: 1,
      },
    );
  });
  // Somewhere within the lock's renewal cycle, as a crash would be.
  await new Promise((r) => setTimeout(r, Math.random() * lockMs));
  killedAt = performance.now();
  child.kill('SIGKILL');
  const ms = await again;
  await queue.close();
  return ms;
}

const picks = await pickUp(200);
console.log(
  `pick-up (queued → running), N=200: p50 ${pct(picks, 0.5).toFixed(2)} ms, p99 ${pct(picks, 0.99).toFixed(2)} ms`,
);
for (const lockMs of [2000, 5000]) {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) times.push(await takeover(lockMs, i));
  console.log(
    `takeover after SIGKILL, lock ${lockMs} ms: ${times.map((t) => `${Math.round(t)} ms`).join(', ')}`,
  );
}

const redis = new Redis(url.toString());
const keys = await redis.keys(`${prefix}*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
process.exit(0);
