/** OpenAI SDK errors → UpstreamError, so retry, fallback and health decisions never look at SDK classes. */
import OpenAI from 'openai';
import {
  connectionFailure,
  networkFailureCode,
  nonHttpFailure,
  retryAfterFromHeaders,
  UpstreamError,
} from '../upstream-error.ts';

/** Maps an OpenAI SDK error (or anything thrown around a call) to an UpstreamError. */
export function toUpstreamError(provider: string, err: unknown, signal: AbortSignal): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (signal.aborted || err instanceof OpenAI.APIUserAbortError) {
    return new UpstreamError(provider, 0, 'the call was aborted', { failure: 'aborted', cause: err });
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new UpstreamError(provider, 0, 'no answer before the provider timeout', {
      failure: 'timeout',
      cause: err,
    });
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return connectionFailure(provider, networkFailureCode(err) ?? '', err);
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const body = err.error as { message?: unknown } | undefined;
    const message = typeof body?.message === 'string' ? body.message : err.message;
    return new UpstreamError(provider, err.status, message, {
      code: err.code ?? err.type ?? null,
      retryAfterMs: retryAfterFromHeaders((name) => err.headers?.get(name)),
      cause: err,
    });
  }
  return nonHttpFailure(provider, err);
}
