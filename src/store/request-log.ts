/**
 * The request log's table: rows appended off the request path in batches (the ledger's writer), read
 * back newest first within a time range, one team's or every team's, and swept by age. The buffer is
 * bounded in rows and in bytes: while the database refuses writes, the prompt and answer text of new
 * rows is dropped first, then the rows themselves — never the memory of the process.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import { type BulkTable, insertRows } from './bulk-insert.ts';
import type { StoreContext } from './context.ts';
import { type KeysetCursor, olderThan } from './keyset.ts';
import { LedgerWriter, type LedgerWriterOptions } from './ledger-writer.ts';
import type { Database, RequestLogTable } from './types.ts';

export type RequestLogRow = RequestLogTable;
/** A row as lists return it: everything but the JSON of the detail and the content. */
export type RequestLogSummaryRow = Omit<Selectable<RequestLogTable>, 'detail' | 'content'>;

/** Status codes from `min` to `max`, inclusive (a class such as 4xx, or one code). */
export interface StatusRange {
  min: number;
  max: number;
}

export interface RequestLogQuery {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  team?: string | undefined;
  /** A key's id (`static:<name>` for a config key) or its name. */
  key?: string | undefined;
  /** The model asked for, or one that answered. */
  model?: string | undefined;
  /** Any of these ranges. */
  status?: StatusRange[] | undefined;
  surface?: string[] | undefined;
  /** A tag by name, with this value if given. */
  tag?: { name: string; value?: string | undefined } | undefined;
  /** Case-insensitive text in the request id, the models or the error. */
  q?: string | undefined;
  /** The page after this row (the previous page's last). */
  before?: KeysetCursor | undefined;
  limit: number;
}

export interface RequestLogOptions extends LedgerWriterOptions {
  /** Bytes of JSON held while writes fail before text, then rows, are dropped (default 64 MiB). */
  maxBufferedBytes?: number;
}

/** Rows per INSERT: 21 columns × 1000 stays under both engines' bound-parameter limits. */
const MAX_BATCH = 1000;
/** Rows one sweep statement removes, so a large backlog never holds the database's write lock long. */
const SWEEP_CHUNK = 5000;
/** What a row costs in memory beyond its JSON, roughly. */
const ROW_OVERHEAD = 400;

/** The columns of a summary: every one but `detail` and `content`. */
export const SUMMARY_COLUMNS = [
  'id',
  'created_at',
  'team_id',
  'key_id',
  'key_name',
  'surface',
  'model',
  'models',
  'status',
  'error_code',
  'error_message',
  'stream',
  'cache',
  'tags',
  'input_tokens',
  'output_tokens',
  'cost_nanos',
  'latency_ms',
  'overhead_ms',
] as const;

const COLUMNS = [...SUMMARY_COLUMNS, 'detail', 'content'] as const;

/** A record whose id is already there (a batch retried after it had been committed) is skipped, not a failure. */
const TABLE: BulkTable<RequestLogRow> = {
  table: 'request_log',
  columns: COLUMNS,
  conflict: 'on conflict (id) do nothing',
};

const sizeOf = (row: RequestLogRow) => ROW_OVERHEAD + (row.detail?.length ?? 0) + (row.content?.length ?? 0);

/** A LIKE pattern matching `text` literally (escape character `\`). */
const literal = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

const NUMBERS = [
  'created_at',
  'status',
  'stream',
  'input_tokens',
  'output_tokens',
  'cost_nanos',
  'latency_ms',
  'overhead_ms',
] as const;

/** pg reads bigint (and sometimes double) columns back as strings: every number comes back a number. */
function numbers<T extends Partial<Selectable<RequestLogTable>>>(row: T): T {
  const out = row as Record<string, unknown>;
  for (const k of NUMBERS) if (out[k] !== undefined && out[k] !== null) out[k] = Number(out[k]);
  return row;
}

export class RequestLogRepo {
  readonly #ctx: StoreContext;
  readonly #writer: LedgerWriter<RequestLogRow>;
  readonly #onError: (err: unknown) => void;
  readonly #maxBytes: number;
  #bytes = 0;
  #textDropped = 0;
  #rowsDropped = 0;
  #shedding = false;

  constructor(ctx: StoreContext, options: RequestLogOptions = {}) {
    this.#ctx = ctx;
    this.#onError = options.onError ?? (() => {});
    this.#maxBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.#writer = new LedgerWriter((rows) => this.#insert(rows), {
      ...options,
      maxBuffered: options.maxBuffered ?? 50_000,
      batchSize: Math.min(options.batchSize ?? 500, MAX_BATCH),
    });
  }

  /**
   * Synchronous: the row is written with the next batch. While the buffer is over its byte bound, the
   * row is kept without its prompt and answer text, and dropped when even that does not fit.
   */
  append(row: RequestLogRow): void {
    let size = sizeOf(row);
    if (this.#bytes + size > this.#maxBytes && row.content !== null) {
      row.content = null;
      size = sizeOf(row);
      this.#textDropped++;
      if (!this.#shedding) {
        this.#shedding = true;
        this.#onError(
          new Error(
            `request log buffer over ${this.#maxBytes} bytes (the database is not taking writes): new records are kept without their prompt and answer text, or dropped`,
          ),
        );
      }
    }
    if (this.#bytes + size > this.#maxBytes) {
      this.#rowsDropped++;
      return;
    }
    const before = this.#writer.dropped;
    this.#writer.append(row);
    if (this.#writer.dropped === before) this.#bytes += size;
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.#writer.pending;
  }

  /** Records dropped because the buffer was full (or the log closed). */
  get dropped(): number {
    return this.#writer.dropped + this.#rowsDropped;
  }

  /** Records kept without their text because the buffer was over its byte bound. */
  get textDropped(): number {
    return this.#textDropped;
  }

  /** Writes everything appended so far; rejects if the database refuses. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  close(): Promise<void> {
    return this.#writer.close();
  }

  async #insert(rows: RequestLogRow[]): Promise<void> {
    await insertRows(this.#ctx, TABLE, rows);
    let written = 0;
    for (const row of rows) written += sizeOf(row);
    this.#bytes = Math.max(0, this.#bytes - written);
    if (this.#bytes < this.#maxBytes / 2) this.#shedding = false;
  }

  /** A page of records, newest first (ties by id), without their detail and content. */
  async list(query: RequestLogQuery): Promise<RequestLogSummaryRow[]> {
    const { db, engine } = this.#ctx;
    let q = db
      .selectFrom('request_log')
      .select(SUMMARY_COLUMNS)
      .where('created_at', '>=', query.from)
      .where('created_at', '<', query.to);
    if (query.team !== undefined) q = q.where('team_id', '=', query.team);
    if (query.key !== undefined) {
      const key = query.key;
      q = q.where((eb) => eb.or([eb('key_id', '=', key), eb('key_name', '=', key)]));
    }
    if (query.model !== undefined) {
      const pattern = `%,${literal(query.model)},%`;
      const model = query.model;
      q = q.where((eb) =>
        eb.or([
          eb('model', '=', model),
          eb(sql<string>`',' || models || ','`, 'like', sql<string>`${pattern} escape ${'\\'}`),
        ]),
      );
    }
    if (query.status?.length) {
      const ranges = query.status;
      q = q.where((eb) =>
        eb.or(ranges.map((r) => eb.and([eb('status', '>=', r.min), eb('status', '<=', r.max)]))),
      );
    }
    if (query.surface?.length) q = q.where('surface', 'in', query.surface);
    if (query.tag !== undefined) {
      // Tags are stored as JSON.stringify wrote them: a name and value match as the same JSON text.
      const name = JSON.stringify(query.tag.name);
      const needle =
        query.tag.value === undefined ? `${name}:` : `${name}:${JSON.stringify(query.tag.value)}`;
      const found =
        engine === 'postgres' ? sql<number>`strpos(tags, ${needle})` : sql<number>`instr(tags, ${needle})`;
      q = q.where(found, '>', 0);
    }
    if (query.q !== undefined) {
      const pattern = `%${literal(query.q.toLowerCase())}%`;
      const likes = ['id', 'model', 'models', 'error_code', 'error_message'].map(
        (column) => sql`lower(${sql.ref(column)}) like ${pattern} escape ${'\\'}`,
      );
      q = q.where(sql<boolean>`(${sql.join(likes, sql` or `)})`);
    }
    if (query.before !== undefined) q = q.where(olderThan(query.before));
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(numbers);
  }

  /** One record, whole; with `team`, only if it is that team's. Buffered records are written first. */
  async get(id: string, team?: string): Promise<Selectable<RequestLogTable> | null> {
    if (this.#writer.pending > 0) await this.flush();
    let q = this.#ctx.db.selectFrom('request_log').selectAll().where('id', '=', id);
    if (team !== undefined) q = q.where('team_id', '=', team);
    const row = await q.executeTakeFirst();
    return row ? numbers(row) : null;
  }

  /**
   * Deletes records that arrived before `before` and erases the text of those before `contentBefore`,
   * in chunks; resolves with how many of each.
   */
  async sweep(before: number, contentBefore: number): Promise<{ deleted: number; erased: number }> {
    const db = this.#ctx.db as Kysely<Database>;
    let deleted = 0;
    for (;;) {
      const result = await db
        .deleteFrom('request_log')
        .where('id', 'in', (eb) =>
          eb.selectFrom('request_log').select('id').where('created_at', '<', before).limit(SWEEP_CHUNK),
        )
        .executeTakeFirst();
      const n = Number(result.numDeletedRows);
      deleted += n;
      if (n < SWEEP_CHUNK) break;
    }
    let erased = 0;
    for (;;) {
      const result = await db
        .updateTable('request_log')
        .set({ content: null })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('request_log')
            .select('id')
            .where('content', 'is not', null)
            .where('created_at', '<', contentBefore)
            .limit(SWEEP_CHUNK),
        )
        .executeTakeFirst();
      const n = Number(result.numUpdatedRows);
      erased += n;
      if (n < SWEEP_CHUNK) break;
    }
    return { deleted, erased };
  }
}
