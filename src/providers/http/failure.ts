/**
 * A call over the pool (pool.ts) that failed without a provider's answer — our abort, its timeout, a
 * dropped connection, an unreadable body, our own bug — as the UpstreamError the gateway decides on.
 * Shared by every caller of the pool: the OpenAI-compatible adapter and the raw passthrough surfaces.
 */
import { connectionFailure, networkFailureCode, nonHttpFailure, UpstreamError } from '../upstream-error.ts';
import { CallAbortedError, CallTimeoutError, TransportError } from './errors.ts';

export function transportFailure(provider: string, err: unknown, signal: AbortSignal): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (signal.aborted || err instanceof CallAbortedError) {
    return new UpstreamError(provider, 0, 'the call was aborted', { failure: 'aborted', cause: err });
  }
  if (err instanceof CallTimeoutError) {
    return new UpstreamError(provider, 0, 'no answer before the provider timeout', {
      failure: 'timeout',
      cause: err,
    });
  }
  if (err instanceof TransportError) {
    return connectionFailure(provider, networkFailureCode(err.cause) ?? '', err);
  }
  return nonHttpFailure(provider, err);
}
