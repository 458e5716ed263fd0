/**
 * The one error type. Every failure that reaches a client is a GatewayError; its `kind` picks the HTTP
 * status and OpenAI error `type` from ERROR_TABLE, so status codes live in exactly one place.
 */
import { StrategyFailure } from '../../consensus/strategy-failure.ts';

export const ERROR_TABLE = {
  invalid_body: { status: 400, type: 'invalid_request_error' },
  invalid_workflow: { status: 400, type: 'invalid_request_error' },
  /** A provider rejected the request (its message is passed on); e.g. context too long. */
  upstream_invalid_request: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  /** `auto` found no model that can serve the request (capabilities, context, allow-list, max cost). */
  no_eligible_model: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  admin_only: { status: 403, type: 'permission_error' },
  /** A browser page from an origin not in `server.cors.origins`. */
  origin_not_allowed: { status: 403, type: 'permission_error' },
  /** Open mode only: a `Host` that is neither loopback nor in `server.allowed_hosts` (DNS rebinding). */
  host_not_allowed: { status: 403, type: 'permission_error' },
  /** /metrics asked by a peer it is not served to. */
  metrics_not_allowed: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  /** A state conflict: approving a step that is not waiting, a duplicate id, correcting a running step. */
  conflict: { status: 409, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  /** A body that is not declared as JSON (or YAML, for workflow definitions). */
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  budget_exceeded: { status: 429, type: 'insufficient_quota' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'server_error' },
  upstream_failed: { status: 502, type: 'upstream_error' },
  not_ready: { status: 503, type: 'server_error' },
  /** The database does not answer; the request did nothing and may be retried. */
  store_unavailable: { status: 503, type: 'service_unavailable' },
  /** Redis (shared budgets and rate limits) does not answer and the fail mode is closed. */
  limits_unavailable: { status: 503, type: 'service_unavailable' },
  upstream_timeout: { status: 504, type: 'upstream_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorKind = keyof typeof ERROR_TABLE;

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface GatewayErrorOptions {
  /** JSON path of the offending field, e.g. `messages[0].role`. */
  param?: string | null;
  /** Overrides the code (defaults to the kind), e.g. a provider's own error code. */
  code?: string;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly param: string | null;
  readonly headers: Record<string, string> | undefined;

  constructor(kind: ErrorKind, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.kind = kind;
    this.status = ERROR_TABLE[kind].status;
    this.type = ERROR_TABLE[kind].type;
    this.code = options.code ?? kind;
    this.param = options.param ?? null;
    this.headers = options.headers;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/**
 * A fan-out strategy that could not answer because of its models (every candidate failed, no readable
 * review, …) in the client's terms: an upstream failure (502) listing each attempt, or a timeout (504)
 * when the deadline passed — never a 500, which is for the gateway's own bugs (and which the OpenAI
 * SDK retries, paying for the whole fan-out again).
 */
export function strategyError(
  err: StrategyFailure,
  options: { timedOut?: boolean; what?: string } = {},
): GatewayError {
  const what = options.what ?? 'The fan-out';
  return (options.timedOut ?? err.aborted)
    ? new GatewayError('upstream_timeout', `${what} ran out of time: ${err.message}.`, { cause: err })
    : new GatewayError('upstream_failed', `${what} got no answer: ${err.message}.`, { cause: err });
}

/**
 * Anything that is not a GatewayError becomes a 500 whose body reveals nothing internal — except a
 * StrategyFailure, which is the models' failure (see strategyError).
 */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof StrategyFailure) return strategyError(err);
  return new GatewayError('internal_error', 'The gateway hit an internal error; it has been logged.', {
    cause: err,
  });
}
