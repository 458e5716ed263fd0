/**
 * What keeps a web page the operator happens to visit from driving the gateway. A page can send a
 * cross-site POST without asking first only with a "simple" content type (text/plain, forms), so
 * bodies must be declared as JSON; a page can read answers only with the browser's CORS consent, so
 * foreign origins are refused unless configured; and DNS rebinding makes a foreign page same-origin,
 * so an open gateway (no keys to stop it) also insists on a loopback or configured `Host`.
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import { cors } from 'hono/cors';
import { GatewayError } from '../errors/index.ts';
import type { AppEnv } from './env.ts';
import { errorResponse } from './errors.ts';
import { isAllowedHost } from './loopback.ts';
import { requestHeader } from './request-header.ts';

/** Probes answer whatever the host name: load balancers and orchestrators use their own. */
const PROBES = new Set(['/healthz', '/readyz']);

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json$/;
const YAML_TYPES = new Set(['application/yaml', 'text/yaml', 'application/x-yaml']);
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Response headers a browser script may read: ours, and the ones telling it when to retry. */
const EXPOSED = [
  'x-quorum-request-id',
  'x-quorum-model',
  'x-quorum-cost-usd',
  'x-quorum-overhead-ms',
  'x-quorum-cache',
  'x-quorum-max-tokens',
  'retry-after-ms',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'retry-after',
  'x-should-retry',
];

/**
 * Open mode only: refuses a `Host` that is neither loopback nor in `server.allowed_hosts`. With keys
 * configured a rebinding page has no key to send, so any host is fine.
 */
function hostRefusal(c: Context<AppEnv>, open: boolean, allowed: readonly string[]): GatewayError | null {
  const host = requestHeader(c, 'host');
  if (!open || !host || PROBES.has(c.req.path) || isAllowedHost(host, allowed)) return null;
  return new GatewayError(
    'host_not_allowed',
    `Host "${host}" is not allowed: with no keys configured Quorum answers only to localhost. ` +
      'Add the name to server.allowed_hosts, or configure keys (QUORUM_MASTER_KEY or keys:).',
  );
}

/** The host check alone, for a listener that serves nothing else of the API (the metrics port). */
export function hostGuard(open: boolean, allowed: readonly string[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const refusal = hostRefusal(c, open, allowed);
    if (refusal) throw refusal;
    await next();
  };
}

/**
 * Same-origin requests and requests without `Origin` (curl, server-side SDKs) pass untouched (null);
 * an origin in `server.cors.origins` (or `*`) gets CORS answers, preflight included (the CORS
 * middleware to run); any other origin is refused before anything is done.
 */
function originCheck(origins: readonly string[]) {
  const any = origins.includes('*');
  const allowed = new Set(origins.map(normalOrigin));
  const withCors = cors({
    origin: (origin) => (any ? '*' : allowed.has(normalOrigin(origin)) ? origin : null),
    exposeHeaders: EXPOSED,
    maxAge: 600,
  });
  return (c: Context<AppEnv>): MiddlewareHandler<AppEnv> | GatewayError | null => {
    const origin = requestHeader(c, 'origin');
    if (origin === undefined || PROBES.has(c.req.path) || sameOrigin(origin, requestHeader(c, 'host'))) {
      return null;
    }
    if (any || allowed.has(normalOrigin(origin))) return withCors;
    return new GatewayError(
      'origin_not_allowed',
      `Origin ${origin} is not allowed to call this gateway. Add it to server.cors.origins to allow it.`,
    );
  };
}

/**
 * POST, PUT and PATCH bodies under /v1 and /admin must say they are JSON (workflow definitions: or
 * YAML). A body without a content type counts as undeclared too: `fetch` of a Blob sends one without
 * asking.
 */
function bodyRefusal(c: Context<AppEnv>): GatewayError | null {
  if (!WITH_BODY.has(c.req.method)) return null;
  const path = c.req.path;
  if (!(underPrefix(path, '/v1') || underPrefix(path, '/admin'))) return null;
  const header = requestHeader(c, 'content-type');
  const type = header?.split(';')[0]?.trim().toLowerCase();
  const yamlToo = c.req.method === 'POST' && /^\/v1\/workflows\/?$/.test(path);
  const ok =
    type === undefined || type === ''
      ? !hasBody(requestHeader(c, 'content-length'), requestHeader(c, 'transfer-encoding'))
      : JSON_TYPE.test(type) || (yamlToo && YAML_TYPES.has(type));
  if (ok) return null;
  return new GatewayError(
    'unsupported_media_type',
    `Send the body as JSON with \`Content-Type: application/json\`${yamlToo ? ' (or application/yaml)' : ''}; ` +
      `got ${type ? `\`${type}\`` : 'no content type'}.`,
    { param: null },
  );
}

/** `prefix` itself or a path below it, as Hono's `prefix/*` matches. */
function underPrefix(path: string, prefix: string): boolean {
  return path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/');
}

/**
 * Every guard in one step of the middleware chain (rather than four for every request): the host, the
 * origin (CORS answers for an allowed foreign one), JSON bodies — a refusal is answered here, as the
 * error handler would — and a HEAD's body let go of. Hono answers a HEAD with the GET route's status
 * and headers and drops its body outside the chain, so nothing would ever read or cancel that body:
 * cancelling it here makes whatever feeds it let go at once. Without this, each HEAD of a run's event
 * stream kept a subscription (and every event queued for it) for as long as the run could change.
 */
export function requestGuards(options: {
  /** No keys configured: only loopback and `allowed_hosts` names may reach the gateway. */
  open: boolean;
  allowedHosts: readonly string[];
  corsOrigins: readonly string[];
}): MiddlewareHandler<AppEnv> {
  const originOf = originCheck(options.corsOrigins);
  const rest = async (c: Context<AppEnv>, next: Next): Promise<void> => {
    const refusal = bodyRefusal(c);
    if (refusal) c.res = errorResponse(c, refusal);
    else await next();
  };
  return async (c, next) => {
    const origin = hostRefusal(c, options.open, options.allowedHosts) ?? originOf(c);
    if (origin instanceof GatewayError) c.res = errorResponse(c, origin);
    else if (origin) {
      const preflight = await origin(c, () => rest(c, next));
      if (preflight) return preflight;
    } else await rest(c, next);
    if (c.req.method === 'HEAD') await c.res.body?.cancel().catch(() => {});
  };
}

function hasBody(length: string | undefined, transferEncoding: string | undefined): boolean {
  return transferEncoding !== undefined || (length !== undefined && Number(length) !== 0);
}

function normalOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** The page was served by this gateway under the name it was reached by. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host || origin === 'null') return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
