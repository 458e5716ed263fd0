/** Gemini SDK / network failures → UpstreamError, so retry, fallback and health decisions never look at SDK classes. */
import { ApiError } from '@google/genai';
import { nonHttpFailure, UpstreamError } from '../upstream-error.ts';

export interface CallState {
  /** The gateway's own signal (client gone, deadline, cancel). */
  signal: AbortSignal;
  /** True once our timeout fired (it aborts the request through the same SDK signal). */
  timedOut: () => boolean;
}

/** What Google documents; as parsed, any field may hold anything, so each is checked where it is read. */
interface GoogleErrorBody {
  code?: unknown;
  message?: unknown;
  status?: unknown;
  details?: unknown;
}

/**
 * The SDK's ApiError message is the whole JSON error body (`{"error":{code,message,status}}`), or
 * `got status: X. {json}` for an error sent inside a stream; the provider's own words are inside.
 */
function parseBody(message: string): GoogleErrorBody | undefined {
  const start = message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(message.slice(start)) as { error?: GoogleErrorBody };
    return typeof parsed.error === 'object' && parsed.error !== null ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

/** Gemini says when to come back in a google.rpc.RetryInfo detail (`"retryDelay": "37s"`). */
function retryDelayMs(body: GoogleErrorBody | undefined): number | undefined {
  if (!Array.isArray(body?.details)) return undefined;
  const info = body.details.find(
    (d) => typeof d?.['@type'] === 'string' && d['@type'].endsWith('google.rpc.RetryInfo'),
  );
  const delay = info?.retryDelay;
  const seconds =
    typeof delay === 'string' || typeof delay === 'number' ? Number.parseFloat(String(delay)) : Number.NaN;
  return Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined;
}

function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

export function toUpstreamError(providerId: string, err: unknown, state: CallState): UpstreamError {
  if (err instanceof UpstreamError) return err;
  // Our own cancellations first: the SDK surfaces both as a bare AbortError.
  if (state.signal.aborted) {
    return new UpstreamError(providerId, 0, 'request aborted', { failure: 'aborted', cause: err });
  }
  if (state.timedOut()) {
    return new UpstreamError(providerId, 0, 'Gemini did not answer in time', {
      failure: 'timeout',
      cause: err,
    });
  }
  if (err instanceof ApiError) {
    const body = parseBody(err.message);
    const status = err.status || (Number.isInteger(body?.code) ? (body?.code as number) : 0);
    return new UpstreamError(providerId, status, body?.message ?? err.message, {
      code: body?.status,
      retryAfterMs: retryDelayMs(body),
      cause: err,
    });
  }
  const chain = causeChain(err);
  const message = err instanceof Error ? err.message : String(err);
  // Its text is not quoted: it may echo the prompt.
  if (chain.some((e) => e instanceof SyntaxError) || /parsing stream chunk|Incomplete JSON/i.test(message)) {
    return new UpstreamError(providerId, 200, 'Gemini sent an unreadable answer', {
      failure: 'bad_response',
      cause: err,
    });
  }
  if (
    chain.some(
      (e) => (e as Error | undefined)?.name === 'AbortError' || (e as Error)?.name === 'TimeoutError',
    )
  ) {
    return new UpstreamError(providerId, 0, 'Gemini did not answer in time', {
      failure: 'timeout',
      cause: err,
    });
  }
  return nonHttpFailure(providerId, err);
}
