/**
 * UpstreamError: why an upstream call failed, in terms the gateway's retry, fallback and circuit-breaker
 * logic understands, with a message fit for the client (credentials redacted; internal errors described,
 * not quoted).
 */
import { GatewayError } from '../errors/index.ts';
import { internalDetail, providerCode, safeProviderMessage } from './error-text.ts';

/** Why an upstream call failed, in terms the gateway's retry and fallback logic understands. */
export type UpstreamFailure =
  /** The provider answered with an HTTP error status. */
  | 'http'
  /** The prompt does not fit the model's context window (a 400 that a larger model could serve). */
  | 'context_length'
  /** No answer in time. */
  | 'timeout'
  /** Could not connect, or the connection dropped. */
  | 'connection'
  /** Our own signal aborted the call (client gone, deadline, cancel). */
  | 'aborted'
  /** The provider answered 2xx with something we could not understand. */
  | 'bad_response'
  /**
   * The gateway failed on its own side (building or sending the request, a bug of ours): says nothing
   * about the deployment's health.
   */
  | 'internal'
  /** Refused before the call: the provider is known to reject this request (see RefusedRequestError). */
  | 'refused';

export interface UpstreamErrorOptions {
  failure?: UpstreamFailure;
  /** The provider's own error code, e.g. `context_length_exceeded`; anything but a string or number is dropped. */
  code?: unknown;
  /** From a `retry-after` / `retry-after-ms` header. */
  retryAfterMs?: number;
  cause?: unknown;
}

const CONTEXT_PATTERNS =
  /context[_ ]length|context window|maximum context|prompt is too long|too many tokens|input token count.*exceeds|exceeds the maximum number of tokens/i;

export class UpstreamError extends Error {
  readonly provider: string;
  /** HTTP status from the provider; 0 when there was no HTTP answer. */
  readonly status: number;
  readonly failure: UpstreamFailure;
  readonly code: string | null;
  readonly retryAfterMs: number | undefined;

  /** `message` and `code` are taken as whatever the provider's body held, and made text here. */
  constructor(provider: string, status: number, message: unknown, options: UpstreamErrorOptions = {}) {
    // Every message may reach a client, whoever built it: no credentials in it, ever.
    super(safeProviderMessage(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.provider = provider;
    this.status = status;
    this.code = providerCode(options.code);
    this.retryAfterMs = options.retryAfterMs;
    this.failure =
      options.failure ??
      (status === 400 && (this.code === 'context_length_exceeded' || CONTEXT_PATTERNS.test(this.message))
        ? 'context_length'
        : 'http');
  }

  /** The client's request itself was refused (400/404-on-input/413/422): retrying elsewhere the same way won't help, except for context length. */
  get isClientError(): boolean {
    return (
      this.failure === 'context_length' ||
      this.failure === 'refused' ||
      (this.failure === 'http' && [400, 413, 422].includes(this.status))
    );
  }

  /** The client's error for a request the provider refused (isClientError): a 400 with its words. */
  toClientError(): GatewayError {
    return new GatewayError('upstream_invalid_request', this.message, {
      code: this.code ?? 'upstream_invalid_request',
    });
  }

  /**
   * Whether the failure says the deployment is unhealthy (for the circuit breaker and the error-rate
   * EWMA): 5xx, 408, 429, timeouts, dropped connections and unreadable answers do. The provider's other
   * 4xx answer the request, not the deployment's health, and our own failures and aborts say nothing
   * about it — counting them would let one client's bad requests open the circuit for everyone.
   */
  get countsAgainstHealth(): boolean {
    switch (this.failure) {
      case 'timeout':
      case 'connection':
      case 'bad_response':
        return true;
      case 'http':
        return this.status >= 500 || this.status === 408 || this.status === 429;
      default:
        return false;
    }
  }

  /** Worth retrying on the same deployment. */
  get retryable(): boolean {
    if (this.failure === 'timeout' || this.failure === 'connection') return true;
    return (
      this.failure === 'http' &&
      (this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500)
    );
  }
}

/** Parses `retry-after-ms` / `retry-after` (seconds or HTTP date) into milliseconds. */
export function retryAfterFromHeaders(get: (name: string) => string | null | undefined): number | undefined {
  const ms = get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const ra = get('retry-after');
  if (!ra) return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/**
 * The gateway's own failure around an upstream call (request building, serialisation, a bug): the
 * client is told only that much; the full text (redacted) is kept as `detail` for the log.
 */
export class InternalUpstreamError extends UpstreamError {
  readonly detail: string;
  constructor(provider: string, err: unknown) {
    super(provider, 0, 'the gateway could not complete the call (an internal error, logged)', {
      failure: 'internal',
      cause: err,
    });
    this.detail = internalDetail(err);
  }
}

/**
 * A request the provider is known to reject (empty text, no user turn, …), refused by the adapter before
 * any call: the client gets a 400 invalid_body naming the field, the provider is not called and its
 * health is not touched.
 */
export class RefusedRequestError extends UpstreamError {
  readonly param: string;
  constructor(provider: string, param: string, message: string) {
    super(provider, 400, `${param}: ${message}`, { failure: 'refused', code: 'invalid_body' });
    this.param = param;
  }

  override toClientError(): GatewayError {
    return new GatewayError('invalid_body', this.message, { param: this.param });
  }
}

/** Node socket error codes (ECONNRESET, ECONNREFUSED, …) and undici's (UND_ERR_SOCKET, …). */
const SOCKET_CODE = /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/;

/**
 * The socket error code when `err` is a network failure (fetch failed, terminated, a socket error
 * anywhere in its cause chain): `''` for one without a code, undefined when it is not a network failure.
 */
export function networkFailureCode(err: unknown): string | undefined {
  let found: string | undefined;
  for (let e = err, i = 0; e && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && SOCKET_CODE.test(code)) return code;
    if (e instanceof TypeError && /^(fetch failed|terminated)$/.test(e.message)) found = '';
    else if (e instanceof Error && /socket hang up|other side closed/i.test(e.message)) found = '';
  }
  return found;
}

/** A dropped or refused connection, described without internal text: `connection failed (ECONNRESET)`. */
export function connectionFailure(provider: string, code: string, err: unknown): UpstreamError {
  return new UpstreamError(provider, 0, `connection to the provider failed${code ? ` (${code})` : ''}`, {
    failure: 'connection',
    cause: err,
  });
}

/**
 * A failure that is no HTTP answer of the provider's, once each adapter has recognised its SDK's own
 * errors: an unparsable body, a dropped connection, or else something thrown on our side.
 */
export function nonHttpFailure(provider: string, err: unknown): UpstreamError {
  // A 2xx body (or stream event) that is not JSON. Its text is not quoted: it may echo the prompt.
  if (err instanceof SyntaxError) {
    return new UpstreamError(provider, 200, 'the provider sent an unreadable answer', {
      failure: 'bad_response',
      cause: err,
    });
  }
  // Thrown while reading the body (a fetch's "terminated", a socket reset): a dropped connection.
  const code = networkFailureCode(err);
  if (code !== undefined) return connectionFailure(provider, code, err);
  // Anything else was thrown on our side (building or serialising the request, reading the answer).
  return new InternalUpstreamError(provider, err);
}
