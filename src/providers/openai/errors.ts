/** OpenAI SDK errors → UpstreamError, so retry, fallback and health decisions never look at SDK classes. */
import OpenAI from 'openai';
import {
  connectionFailure,
  InternalUpstreamError,
  networkFailureCode,
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
  // A 2xx body (or stream event) that is not JSON. Its text is not quoted: it may echo the prompt.
  if (err instanceof SyntaxError) {
    return new UpstreamError(provider, 200, 'the provider sent an unreadable answer', {
      failure: 'bad_response',
      cause: err,
    });
  }
  // A stream cut mid-way surfaces as the fetch body's own error.
  const code = networkFailureCode(err);
  if (code !== undefined) return connectionFailure(provider, code, err);
  // Anything else was thrown on our side (building or serialising the request, reading the answer).
  return new InternalUpstreamError(provider, err);
}
