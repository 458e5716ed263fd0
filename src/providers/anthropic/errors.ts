/** Anthropic SDK errors → UpstreamError, so retry and fallback decisions never look at SDK classes. */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import {
  connectionFailure,
  networkFailureCode,
  nonHttpFailure,
  retryAfterFromHeaders,
  UpstreamError,
} from '../upstream-error.ts';

/**
 * A mid-stream `error` event arrives after a 200, so the SDK's APIError has no status; the error type
 * says what the HTTP status would have been (overloaded_error is Anthropic's 529).
 */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

const PROMPT_TOO_LONG = /prompt is too long|input is too long|context window|exceeds? .*context/i;

export function toUpstreamError(providerId: string, err: unknown, signal: AbortSignal): UpstreamError {
  // Our own abort first: the SDK reports it as APIUserAbortError, or (mid-stream) not at all.
  if (
    signal.aborted ||
    err instanceof APIUserAbortError ||
    (err instanceof Error && err.name === 'AbortError')
  ) {
    return new UpstreamError(providerId, 0, 'the call was aborted', {
      failure: 'aborted',
      cause: err,
    });
  }
  if (err instanceof UpstreamError) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return new UpstreamError(providerId, 0, 'no answer before the provider timeout', {
      failure: 'timeout',
      cause: err,
    });
  }
  if (err instanceof APIConnectionError) {
    return connectionFailure(providerId, networkFailureCode(err) ?? '', err);
  }
  if (err instanceof APIError) {
    const type = err.type ?? null;
    const status = err.status ?? (type ? STATUS_OF_TYPE[type] : undefined) ?? 500;
    const message = err.apiMessage ?? err.message;
    const headers = err.headers;
    return new UpstreamError(providerId, status, message, {
      code: err.errorCode ?? type,
      retryAfterMs: headers ? retryAfterFromHeaders((name) => headers.get(name)) : undefined,
      failure: status === 400 && PROMPT_TOO_LONG.test(message) ? 'context_length' : undefined,
      cause: err,
    });
  }
  return nonHttpFailure(providerId, err);
}
