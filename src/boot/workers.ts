/**
 * `quorum serve --workers N`: the primary process forks N workers (node:cluster) that share the port;
 * each runs the whole boot. Slot 1 starts first (it runs the store's migrations alone, and it is the
 * one worker that runs the workflow engine); the others start once it listens. A worker that exits is
 * replaced, after a delay that doubles with each quick failure; a slot that never comes up five times
 * in a row stops everything (exit 1). SIGTERM/SIGINT drain every worker, then the primary exits 0.
 * The primary itself serves nothing: it relays the engine calls and run events of engine-link.ts.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../telemetry/index.ts';
import { ENGINE_UNAVAILABLE, isLinkMessage, type LinkMessage } from './engine-link.ts';

/** The slot that runs the workflow engine. */
export const ENGINE_SLOT = 1;
/** A worker that lived this long before exiting counts as a crash, not a failure to start. */
const STABLE_MS = 10_000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const MAX_FAILED_STARTS = 5;

interface Slot {
  n: number;
  worker: Worker | null;
  /** Listening URL once the worker's boot finished. */
  url: string | null;
  startedAt: number;
  /** Consecutive exits before listening or soon after. */
  failures: number;
  /** Consecutive exits before it ever listened. */
  failedStarts: number;
  timer: NodeJS.Timeout | null;
}

export interface WorkersOptions {
  count: number;
  logger: Logger;
}

/** Runs the primary until it is told to stop; resolves with the exit code. */
export function runWorkers({ count, logger }: WorkersOptions): Promise<number> {
  // Run records and errors cross the channel with undefined, Dates and nested objects intact.
  cluster.setupPrimary({ serialization: 'advanced' });
  const slots = new Map<number, Slot>();
  for (let n = 1; n <= count; n++) {
    slots.set(n, { n, worker: null, url: null, startedAt: 0, failures: 0, failedStarts: 0, timer: null });
  }
  let stopping = false;
  let announced = false;
  let done: (code: number) => void = () => {};
  let exitCode = 0;
  const finished = new Promise<number>((resolve) => {
    done = resolve;
  });

  const slotOf = (worker: Worker) => [...slots.values()].find((s) => s.worker === worker);
  const engineSlot = () => slots.get(ENGINE_SLOT)!;
  const sendTo = (worker: Worker | null | undefined, message: LinkMessage) => {
    if (worker?.isConnected()) worker.send(message);
  };

  const fork = (slot: Slot) => {
    slot.timer = null;
    slot.url = null;
    slot.startedAt = Date.now();
    slot.worker = cluster.fork({
      QUORUM_WORKER_SLOT: String(slot.n),
      QUORUM_WORKER_COUNT: String(count),
    });
    const worker = slot.worker;
    worker.on('message', (m: unknown) => {
      if (!isLinkMessage(m)) return;
      switch (m.q) {
        case 'listening':
          onListening(slot, m.url);
          break;
        case 'engine-call': {
          const engine = engineSlot();
          if (engine.url && engine.worker) sendTo(engine.worker, { ...m, from: worker.id });
          else sendTo(worker, { q: 'engine-reply', id: m.id, ok: false, error: ENGINE_UNAVAILABLE });
          break;
        }
        case 'engine-reply':
          if (m.to !== undefined) sendTo(cluster.workers?.[m.to], m);
          break;
        case 'run-event':
        case 'request-log':
          for (const other of slots.values()) if (other !== slot) sendTo(other.worker, m);
          break;
      }
    });
  };

  const onListening = (slot: Slot, url: string) => {
    slot.url = url;
    slot.failedStarts = 0;
    // Slot 1 has run the migrations: the others may open the store now.
    if (slot.n === ENGINE_SLOT && !announced) {
      for (const other of slots.values()) if (!other.worker && !other.timer) fork(other);
    }
    if (!announced && [...slots.values()].every((s) => s.url)) {
      announced = true;
      const pids = [...slots.values()].map((s) => s.worker?.process.pid);
      logger.info({ workers: count, pids }, `Quorum listening on ${url} with ${count} workers`);
    } else if (announced) {
      logger.info({ worker: slot.n, pid: slot.worker?.process.pid }, `worker ${slot.n} is back`);
    }
  };

  cluster.on('exit', (worker, code, signal) => {
    const slot = slotOf(worker);
    if (!slot) return;
    slot.worker = null;
    const listened = slot.url !== null;
    slot.url = null;
    if (slot.n === ENGINE_SLOT) {
      // Calls waiting on the engine fail now (retryable) rather than hang until it is back.
      for (const other of slots.values()) sendTo(other.worker, { q: 'engine-gone' });
    }
    if (stopping) {
      if (code !== 0 && code !== null) exitCode = 1;
      if ([...slots.values()].every((s) => !s.worker)) done(exitCode);
      return;
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const lived = Date.now() - slot.startedAt;
    slot.failures = lived >= STABLE_MS ? 1 : slot.failures + 1;
    if (!listened) slot.failedStarts++;
    if (slot.failedStarts >= MAX_FAILED_STARTS) {
      logger.error(
        { worker: slot.n },
        `worker ${slot.n} failed to start ${slot.failedStarts} times in a row (see its errors above): stopping`,
      );
      exitCode = 1;
      stopAll('startup failure');
      return;
    }
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (slot.failures - 1));
    logger.warn(
      { worker: slot.n, pid: worker.process.pid, code, signal, restart_in_ms: delay },
      `worker ${slot.n} (pid ${worker.process.pid}) ${how}; restarting it in ${(delay / 1000).toFixed(1)} s`,
    );
    slot.timer = setTimeout(() => fork(slot), delay);
  });

  const stopAll = (why: string) => {
    if (stopping) return;
    stopping = true;
    const live = [...slots.values()].filter((s) => s.worker);
    logger.info(`${why}: draining ${live.length} worker(s)`);
    for (const slot of slots.values()) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      // Each worker drains its own connections, then exits 0.
      slot.worker?.process.kill('SIGTERM');
    }
    if (!live.length) done(exitCode);
  };
  process.on('SIGTERM', () => stopAll('SIGTERM received'));
  process.on('SIGINT', () => stopAll('SIGINT received'));

  logger.info({ workers: count }, `starting ${count} workers`);
  fork(engineSlot());
  return finished;
}
