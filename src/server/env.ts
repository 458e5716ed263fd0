import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { GatewayError } from '../errors/index.ts';
import type { Caller } from '../gateway/index.ts';
import type { RequestDraft } from '../request-log/index.ts';

/** The x-quorum-* values of an answer, as its headers say them. */
export interface AnsweredHeaders {
  /** The response that carries them (Hono re-wraps one it must merge headers into). */
  response: Response;
  model: string;
  overheadMs: number;
  cache: string | null;
}

export interface StreamEnd {
  /** The code of the error a stream ended with after it began. */
  error?: string;
  /** That error itself, for the request log. */
  failure?: GatewayError;
  cancelled?: boolean;
}

/** Per-request values the middleware sets for handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    startedAt: number;
    caller: Caller;
    /**
     * For streaming handlers: defers the request's span and log line, and returns the function that
     * ends them when the stream does.
     */
    deferEnd: () => (info: StreamEnd) => void;
    /** The request log's record of this request (proxied endpoints, with the log on). */
    draft?: RequestDraft;
    /** Who called the admin API (`master_key`), for its audit log; set by the admin gate. */
    adminActor?: string;
    /** The error the response carries, set where every error response is made (errors.ts). */
    failure?: GatewayError;
    /**
     * Set by a handler whose response already carries every header (`x-quorum-request-id` included)
     * in one plain object: what the request log reads from those headers, so that nothing after the
     * handler turns them into a Headers object (see json-answer.ts).
     */
    answered?: AnsweredHeaders;
  };
}

/** node:http's request under the Hono context (@hono/node-server's `incoming`); none under app.request(). */
export function nodeIncoming(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}
