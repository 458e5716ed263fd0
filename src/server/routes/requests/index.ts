/**
 * The request log's read API, for the dashboard and scripts: GET /v1/requests (a page, newest first),
 * GET /v1/requests/{id} (one record, whole) and GET /v1/requests/stream (the live tail). A team key sees
 * its own team's requests only (another team's are unknown to it); the master key sees every team's.
 * Prompt and answer text appear only while content logging is on.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { GatewayError } from '../../../errors/index.ts';
import { type RequestLog, recordView, summaryView } from '../../../request-log/index.ts';
import type { Store } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';
import { domainError } from '../../errors.ts';
import { cursorOf } from '../../paging.ts';
import { readFilter, readListQuery } from './query.ts';
import { getRoute, listRoute, streamRoute } from './schemas.ts';
import { tailBody } from './tail.ts';

export interface RequestsDeps {
  store: Store;
  log: RequestLog;
  /** Tests: a shorter heartbeat for the live tail. */
  heartbeatMs?: number;
}

/** Live tails one process serves at once; past it a new one is refused until another ends. */
export const MAX_TAILS = 100;

/** A store call, its failures in the API's terms (a database that is down: 503). */
const read = async <T>(fn: () => Promise<T>) => {
  try {
    return await fn();
  } catch (err) {
    throw domainError(err) ?? err;
  }
};

export function registerRequests(app: OpenAPIHono<AppEnv>, deps: RequestsDeps) {
  const { store, log } = deps;

  /** GET /v1/requests/stream: the live tail. */
  const tail = (c: Context<AppEnv>) => {
    const filter = readFilter(c);
    if (log.hub.size >= MAX_TAILS) {
      throw new GatewayError(
        'rate_limit_exceeded',
        `This gateway already serves ${MAX_TAILS} live tails; retry once one has ended.`,
        { headers: { 'retry-after': '5' } },
      );
    }
    const body = tailBody(log.hub, filter, deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {});
    return c.body(body, 200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
  };
  for (const r of [listRoute, streamRoute, getRoute]) app.openAPIRegistry.registerPath(r);

  app.get('/v1/requests', async (c) => {
    const query = readListQuery(c, Date.now());
    // What finished just before this call is in the page (built, then written).
    await log.flush();
    const rows = await read(() => store.requestLog.list({ ...query, limit: query.limit + 1 }));
    const page = rows.slice(0, query.limit);
    const more = rows.length > query.limit;
    return c.json({
      object: 'list' as const,
      data: page.map(summaryView),
      has_more: more,
      next_cursor: more ? cursorOf(page.at(-1)!) : null,
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
    });
  });

  // One route for `stream` and the ids: Hono's fastest router (one regular expression for every route)
  // refuses a fixed segment beside a parameter, and the whole app would fall back to its slower one.
  app.get('/v1/requests/:id', async (c) => {
    const id = c.req.param('id');
    if (id === 'stream') return tail(c);
    const caller = c.get('caller');
    await log.flush();
    const row = await read(() => store.requestLog.get(id, caller.operator ? undefined : caller.team));
    if (!row) throw new GatewayError('not_found', `No request with id \`${id}\`.`, { param: 'id' });
    return c.json(recordView(row, log.content));
  });
}
