/**
 * The audit log of admin actions: append-only rows (who, what, when, on what, details), read newest
 * first a page at a time. The store writes what it is given; `src/audit/` makes sure that holds no
 * secret.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { StoreContext } from './context.ts';
import { type KeysetCursor, olderThan } from './keyset.ts';
import type { AuditLogTable } from './types.ts';

export type AuditRow = Selectable<AuditLogTable>;

export interface NewAuditEntry {
  actor: string;
  action: string;
  target: string | null;
  /** JSON text of the details, or null. */
  details: string | null;
  requestId: string | null;
}

export interface AuditQuery {
  limit: number;
  action?: string | undefined;
  target?: string | undefined;
  /** Keyset cursor: the page starts strictly before this row (newest first). */
  before?: KeysetCursor | undefined;
}

export class AuditRepo {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async append(entry: NewAuditEntry): Promise<AuditRow> {
    const row: AuditRow = {
      id: 'aud_' + randomBytes(12).toString('base64url'),
      created_at: this.#ctx.now(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      details: entry.details,
      request_id: entry.requestId,
    };
    await this.#ctx.db.insertInto('audit_log').values(row).execute();
    return row;
  }

  async list(query: AuditQuery): Promise<AuditRow[]> {
    let q = this.#ctx.db.selectFrom('audit_log').selectAll();
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.target !== undefined) q = q.where('target', '=', query.target);
    if (query.before !== undefined) q = q.where(olderThan(query.before));
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
  }
}
