/**
 * Long read-only queries on SQLite, off the event loop. `node:sqlite` is synchronous: a usage report
 * scanning a million ledger rows would stall every request the gateway is serving for as long as it
 * runs. A worker thread with its own connection to the same file runs them instead (WAL lets it read
 * while the gateway writes), one at a time, in the order asked.
 */
import { Worker } from 'node:worker_threads';

interface Pending {
  resolve: (rows: unknown[]) => void;
  reject: (err: Error) => void;
}

interface Reply {
  id: number;
  rows?: unknown[];
  error?: { message: string; code?: unknown; errcode?: unknown; errstr?: unknown };
}

/** The worker's source next to this file: `.ts` when run from the sources, `.js` once built. */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './sqlite-reader-worker.ts' : './sqlite-reader-worker.js',
  import.meta.url,
);

/** SQLite's own error, rebuilt with its codes so the store's error mapping (busy → 503) still applies. */
function sqliteError(e: NonNullable<Reply['error']>): Error {
  return Object.assign(new Error(e.message), { code: e.code, errcode: e.errcode, errstr: e.errstr });
}

export class SqliteReader {
  readonly #path: string;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #closed = false;

  /** `path`: the database file (absolute); the thread starts with the first query. */
  constructor(path: string) {
    this.#path = path;
  }

  /** The rows of one SELECT. */
  all(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    if (this.#closed) return Promise.reject(new Error('The store is closed.'));
    const worker = this.#start();
    const id = ++this.#next;
    return new Promise<unknown[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, sql, params });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = null;
    this.#failAll(new Error('The store is closed.'));
    await worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_URL, { workerData: { path: this.#path } });
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.error) pending.reject(sqliteError(reply.error));
      else pending.resolve(reply.rows ?? []);
      // An idle thread must not keep the process alive.
      if (this.#pending.size === 0) worker.unref();
    });
    // A thread that died (it could not open the file, or ran out of memory) fails what it held; the
    // next query starts a new one.
    const died = (err: Error) => {
      if (this.#worker === worker) this.#worker = null;
      this.#failAll(err);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`The database reader thread stopped (exit code ${code}).`)));
    this.#worker = worker;
    return worker;
  }

  #failAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}
