/**
 * SQLite work off the event loop. `node:sqlite` is synchronous: a usage report scanning a million ledger
 * rows would stall every request the gateway is serving for as long as it runs, and so would the batches
 * every request leaves (ledger, request log, learning), each with its commit's disk sync. A worker thread
 * with its own connection to the same file does it instead (WAL lets readers and one writer work side by
 * side), one job at a time, in the order asked: a `reader` thread answers SELECTs, a `writer` thread
 * writes batches, each batch one transaction.
 */
import { Worker } from 'node:worker_threads';

export type SqliteThreadRole = 'reader' | 'writer';

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
  import.meta.url.endsWith('.ts') ? './sqlite-thread-worker.ts' : './sqlite-thread-worker.js',
  import.meta.url,
);

/** SQLite's own error, rebuilt with its codes so the store's error mapping (busy → 503) still applies. */
function sqliteError(e: NonNullable<Reply['error']>): Error {
  return Object.assign(new Error(e.message), { code: e.code, errcode: e.errcode, errstr: e.errstr });
}

export class SqliteThread {
  readonly #path: string;
  readonly #role: SqliteThreadRole;
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #closed = false;

  /** `path`: the database file (absolute); the thread starts with the first job. */
  constructor(path: string, role: SqliteThreadRole) {
    this.#path = path;
    this.#role = role;
  }

  /** The rows of one SELECT. */
  all(sql: string, params: readonly unknown[]): Promise<unknown[]> {
    return this.#send({ sql, params });
  }

  /**
   * Runs `sql` (one row's INSERT) once per row, all in one transaction: every row is written or none.
   * The values must be what node:sqlite binds (null, numbers, bigints, strings, bytes).
   */
  async insert(sql: string, rows: readonly (readonly unknown[])[]): Promise<void> {
    await this.#send({ sql, rows });
  }

  #send(job: {
    sql: string;
    params?: readonly unknown[];
    rows?: readonly (readonly unknown[])[];
  }): Promise<unknown[]> {
    if (this.#closed) return Promise.reject(new Error('The store is closed.'));
    const worker = this.#start();
    const id = ++this.#next;
    return new Promise<unknown[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...job });
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
    const worker = new Worker(WORKER_URL, { workerData: { path: this.#path, role: this.#role } });
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
    worker.on('exit', (code) =>
      died(new Error(`The database ${this.#role} thread stopped (exit code ${code}).`)),
    );
    this.#worker = worker;
    return worker;
  }

  #failAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}
