/**
 * Stored responses: read one, delete one, list its input items. Each acts only on the caller's team's
 * responses — another team's id answers 404 exactly as an unknown one — and the operator on all.
 */
import type { Context } from 'hono';
import { GatewayError } from '../../../errors/index.ts';
import { invalid } from '../../../responses/index.ts';
import type { ResponseRecord, Store } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';

const PAGE = 20;
const MAX_PAGE = 100;

const scopeOf = (c: Context<AppEnv>) => {
  const caller = c.get('caller');
  return caller.operator ? undefined : caller.team;
};

function notFound(id: string, store: Store | undefined): GatewayError {
  const why = store ? '' : ' This gateway runs without a store, so it keeps no responses.';
  return new GatewayError('not_found', `Response with id '${id}' not found.${why}`, { param: 'response_id' });
}

/** The response `:id` names, when the caller's team may see it. */
export async function findResponse(c: Context<AppEnv>, store: Store | undefined): Promise<ResponseRecord> {
  const id = c.req.param('id')!;
  if (c.req.query('stream') === 'true') {
    throw invalid('stream', 'a stored response is read as JSON; stream its answer when creating it');
  }
  const found = await store?.responses.get(id, scopeOf(c));
  if (!found) throw notFound(id, store);
  return found;
}

export async function deleteResponse(c: Context<AppEnv>, store: Store | undefined): Promise<Response> {
  const id = c.req.param('id')!;
  if (!(await store?.responses.delete(id, scopeOf(c)))) throw notFound(id, store);
  return c.json({ id, object: 'response.deleted', deleted: true });
}

/** `?limit=` 1..100 (default 20), `?order=` asc|desc (default desc, newest first), `?after=` / `?before=` an item id. */
export function listInputItems(c: Context<AppEnv>, record: ResponseRecord): Response {
  const q = c.req.query();
  const limit = q.limit === undefined ? PAGE : /^[0-9]+$/.test(q.limit) ? Number(q.limit) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE)) throw invalid('limit', `expected an integer from 1 to ${MAX_PAGE}`);
  const order = q.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalid('order', 'expected `asc` or `desc`');
  let items = (record.input as { id: string }[]).slice();
  if (order === 'desc') items.reverse();
  for (const [param, cursor] of [
    ['after', q.after],
    ['before', q.before],
  ] as const) {
    if (cursor === undefined) continue;
    const at = items.findIndex((item) => item.id === cursor);
    if (at < 0) throw invalid(param, `no input item of ${record.id} has the id '${cursor}'`);
    items = param === 'after' ? items.slice(at + 1) : items.slice(0, at);
  }
  // `before` pages backwards: the items right before the cursor.
  const page = q.before !== undefined && q.after === undefined ? items.slice(-limit) : items.slice(0, limit);
  const hasMore =
    q.before !== undefined && q.after === undefined ? items.length > page.length : items.length > limit;
  return c.json({
    object: 'list',
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: hasMore,
  });
}
