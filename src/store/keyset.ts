/**
 * Keyset paging for lists read newest first by (created_at, id): the condition for the rows after a
 * page's last row. One index on (created_at, id) serves it on both engines.
 */
import type { ExpressionBuilder } from 'kysely';

/** The last row of a page. */
export interface KeysetCursor {
  created_at: number;
  id: string;
}

/** Rows strictly older than `before` in (created_at desc, id desc) order. */
export const olderThan = (before: KeysetCursor) => (eb: ExpressionBuilder<any, any>) =>
  eb.or([
    eb('created_at', '<', before.created_at),
    eb.and([eb('created_at', '=', before.created_at), eb('id', '<', before.id)]),
  ]);
