/**
 * The gateway's HTTP listener: @hono/node-server's `serve` with the configured bounds on slow clients,
 * so a connection that trickles its headers or its body is cut off instead of holding a socket (and
 * its memory) for Node's defaults of one and five minutes.
 */
import type { ServerOptions } from 'node:http';
import { type ServerType, serve } from '@hono/node-server';

export interface ServerTimeouts {
  /** The request line and headers must all arrive within this (else 408 and the socket is closed). */
  headers_timeout_ms: number;
  /** The whole request, body included, must arrive within this (Node's `requestTimeout`). */
  body_timeout_ms: number;
  /** An idle keep-alive connection is closed after this. */
  keep_alive_timeout_ms: number;
}

/** Node checks the two request bounds on a timer; one check per quarter bound, at most one a second. */
function checkEveryMs(t: ServerTimeouts): number {
  return Math.max(25, Math.min(1_000, Math.floor(Math.min(t.headers_timeout_ms, t.body_timeout_ms) / 4)));
}

/** Options for `http.createServer` that apply the bounds. */
export function serverOptions(t: ServerTimeouts): ServerOptions {
  return {
    headersTimeout: t.headers_timeout_ms,
    // Node refuses a request bound shorter than the headers bound; the headers are part of the request.
    requestTimeout: Math.max(t.body_timeout_ms, t.headers_timeout_ms),
    keepAliveTimeout: t.keep_alive_timeout_ms,
    // Node's default is a check every 30 s, which would stretch a 10 s bound to 40 s.
    connectionsCheckingInterval: checkEveryMs(t),
  };
}

export interface ListenOptions {
  port: number;
  hostname: string;
  timeouts: ServerTimeouts;
}

/** Starts serving `fetch`; resolves once listening, rejects when the port cannot be bound. */
export async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ListenOptions,
): Promise<ServerType> {
  const server = serve({
    fetch,
    port: options.port,
    hostname: options.hostname,
    serverOptions: serverOptions(options.timeouts),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}
