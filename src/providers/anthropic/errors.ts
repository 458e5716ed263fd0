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
import { PROMPT_TOO_LONG, statusOfType } from './wire.ts';

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
    const status = err.status ?? statusOfType(type) ?? 500;
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
