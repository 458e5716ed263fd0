/**
 * A request header on the hot path, with what Hono's `c.req.header()` returns but without its cost:
 * Hono validates the name and normalizes the value on every call (≈ 900 instructions each, nine calls
 * a proxied request), while node:http has already parsed every header into `incoming.headers`, trimmed,
 * and @hono/node-server reads that object for each request anyway.
 *
 * The two differ only when a header arrives more than once: Hono joins every value (as fetch's Headers
 * do), node:http keeps the first of some (Host, Authorization, Content-Type, Content-Length…). A request
 * with any repeated header name goes to Hono, as does anything not served by node:http/1.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { nodeIncoming } from './env.ts';

/** Headers node:http keeps the first of when repeated (its `matchKnownFields`; Hono's list too). */
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/**
 * Whether some header name came more than once. A request's reads come together (guards, key, body),
 * so the answer for the last request asked about is kept: one comparison instead of a count per read.
 */
let lastIncoming: IncomingMessage | undefined;
let lastRepeated = false;

function hasRepeatedName(incoming: IncomingMessage): boolean {
  if (incoming !== lastIncoming) {
    let names = 0;
    for (const _ in incoming.headers) names++;
    lastRepeated = names * 2 !== incoming.rawHeaders.length;
    lastIncoming = incoming;
  }
  return lastRepeated;
}

/** `name` in lower case, as Hono's `c.req.header(name)` answers it. */
export function requestHeader(c: Context, name: Lowercase<string>): string | undefined {
  const incoming = nodeIncoming(c);
  if (incoming === undefined || incoming.httpVersionMajor !== 1) return c.req.header(name);
  const value = incoming.headers[name];
  if (typeof value !== 'string') return value === undefined ? undefined : c.req.header(name);
  return FIRST_ONLY.has(name) && hasRepeatedName(incoming) ? c.req.header(name) : value;
}
