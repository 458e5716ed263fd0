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
  | 'bad_response';

export interface UpstreamErrorOptions {
  failure?: UpstreamFailure;
  /** The provider's own error code, e.g. `context_length_exceeded`. */
  code?: string | null;
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

  constructor(provider: string, status: number, message: string, options: UpstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.provider = provider;
    this.status = status;
    this.code = options.code ?? null;
    this.retryAfterMs = options.retryAfterMs;
    this.failure =
      options.failure ??
      (status === 400 && (this.code === 'context_length_exceeded' || CONTEXT_PATTERNS.test(message))
        ? 'context_length'
        : 'http');
  }

  /** The client's request itself was refused (400/404-on-input/413/422): retrying elsewhere the same way won't help, except for context length. */
  get isClientError(): boolean {
    return (
      this.failure === 'context_length' || (this.failure === 'http' && [400, 413, 422].includes(this.status))
    );
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
