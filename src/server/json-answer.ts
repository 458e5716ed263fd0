/**
 * A JSON answer whose headers are one plain object. Hono's `c.json` after `c.header` builds a Headers
 * object (every name and value checked and sorted) that the node server then copies back into a plain
 * object to write; a plain object is written as it is. Nothing after the handler may read the
 * response's headers (that would build the Headers object after all): the request-context middleware
 * takes what it needs from `answered`, and leaves out the request id it would otherwise add.
 */
import type { Context } from 'hono';
import type { ChatMeta } from '../gateway/index.ts';
import { usdText } from '../limits/nanos.ts';
import type { AppEnv } from './env.ts';

/**
 * An answer's x-quorum-* headers, written into `into`: the model, the rate-limit headers, the overhead,
 * the cache outcome, and the cost when it is known (a stream's is known only when it ends).
 */
function answerHeaders(
  meta: ChatMeta,
  withCost: boolean,
  into: Record<string, string> = {},
): Record<string, string> {
  into['x-quorum-model'] = meta.model;
  if (meta.headers) Object.assign(into, meta.headers);
  into['x-quorum-overhead-ms'] = String(meta.overheadMs);
  if (meta.cache) into['x-quorum-cache'] = meta.cache;
  if (withCost) into['x-quorum-cost-usd'] = usdText(meta.costUsd);
  return into;
}

/**
 * A stream's x-quorum-* headers, set on the context before its body goes out; without the cost, which is
 * known only when the stream ends.
 */
export function streamHeaders(c: Context<AppEnv>, meta: ChatMeta): void {
  for (const [name, value] of Object.entries(answerHeaders(meta, false))) c.header(name, value);
}

/**
 * The JSON body (a chat completion, a Responses object, an Anthropic message, an embeddings list) with
 * the answer's x-quorum-* headers, cost included, and any `extra` ones (Anthropic's `request-id`), as
 * `c.json` would send them.
 */
export function jsonAnswer(
  c: Context<AppEnv>,
  meta: ChatMeta,
  body: unknown,
  extra?: Record<string, string>,
): Response {
  return jsonTextAnswer(c, meta, JSON.stringify(body), extra);
}

/** jsonAnswer for a body already serialised: a passthrough's bytes as the upstream sent them. */
export function jsonTextAnswer(
  c: Context<AppEnv>,
  meta: ChatMeta,
  text: string | Uint8Array<ArrayBuffer>,
  extra?: Record<string, string>,
): Response {
  const headers = answerHeaders(meta, true, {
    'content-type': 'application/json',
    'x-quorum-request-id': c.get('requestId'),
  });
  if (extra) Object.assign(headers, extra);
  const response = new Response(text, { status: 200, headers });
  c.set('answered', { response, model: meta.model, overheadMs: meta.overheadMs, cache: meta.cache ?? null });
  return response;
}
