/**
 * One raw upstream call — a body sent as it is, an answer passed back as it came — inside its client
 * span, with its outcome charged to the request (one ledger row per call, as for adapter calls).
 */
import type { Usage } from '../../chat/index.ts';
import { transportFailure } from '../../providers/http/failure.ts';
import type { OriginPools } from '../../providers/http/origin-pools.ts';
import { UpstreamError } from '../../providers/upstream-error.ts';
import { failSpan } from '../../telemetry/index.ts';
import { recordOf } from '../budget/index.ts';
import { errorType, finishSpan, startCallSpan, statusOf } from '../calls/index.ts';
import type { Deployment } from '../deployments/index.ts';
import type { CallScope } from '../request/index.ts';
import type { PassthroughCall, RawEvent, RawRequest, RawTarget } from './types.ts';

const NO_USAGE: Usage = Object.freeze({ prompt_tokens: 0, completion_tokens: 0 });

export function targetOf(dep: Deployment): RawTarget {
  return { model: dep.spec.id, upstream: dep.spec.upstream, provider: dep.provider };
}

/** The provider's own timeout for one call (the config always fills it in). */
function timeoutOf(dep: Deployment): number {
  return dep.provider.timeout_ms ?? 600_000;
}

/** Flat `[name, value, …]` headers, as the pool sends them. */
function flatHeaders(headers: Record<string, string>): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(headers)) flat.push(name, value);
  return flat;
}

async function poolCall(pools: OriginPools, dep: Deployment, req: RawRequest, signal: AbortSignal) {
  const url = new URL(req.url);
  const timeoutMs = timeoutOf(dep);
  // The call's own timeout bounds the connect too; a second more keeps a socket from hanging on.
  const pool = await pools.pool(url, timeoutMs + 1_000);
  return {
    pool,
    call: {
      path: url.pathname + url.search,
      headers: flatHeaders(req.headers),
      body: req.body,
      signal,
      timeoutMs,
    },
  };
}

/**
 * What a call that ended without the provider's usage is charged: as for adapter calls, a call cut off
 * after it was sent (the client left, the deadline passed) or that generated output is charged the
 * prompt's upper bound and the output seen; one refused or never received is charged nothing.
 */
function unreported(call: PassthroughCall, generatedChars: number, error: unknown, partial?: Usage): Usage {
  const cutOff =
    error instanceof UpstreamError && (error.failure === 'aborted' || error.failure === 'timeout');
  if (!(error === undefined || generatedChars > 0 || cutOff || partial)) return NO_USAGE;
  const prompt = call.cost ? (call.cost.promptTokensMax ?? call.cost.promptTokens) : 0;
  return {
    prompt_tokens: partial?.prompt_tokens || prompt,
    completion_tokens: Math.max(partial?.completion_tokens ?? 0, Math.ceil(generatedChars / 4)),
    ...(partial?.cached_tokens ? { cached_tokens: partial.cached_tokens } : {}),
  };
}

/** One non-streamed raw call. */
export async function wholeCall(
  pools: OriginPools,
  dep: Deployment,
  call: PassthroughCall,
  scope: CallScope,
): Promise<string | Buffer> {
  const target = targetOf(dep);
  const span = startCallSpan(dep, call.span, call.span.operation);
  const started = performance.now();
  try {
    const { pool, call: request } = await poolCall(pools, dep, call.protocol.request(target), scope.signal);
    const answer = await pool.post(request);
    if (answer.status < 200 || answer.status >= 300) throw call.protocol.failure(target, answer);
    const whole = call.protocol.whole(target, answer.body);
    if (whole.usage) {
      finishSpan(span, dep, whole.usage, whole.finish ?? 'stop', whole.responseModel);
      scope.add(recordOf(dep, whole.usage, performance.now() - started, 200));
    }
    return whole.body;
  } catch (thrown) {
    const err = transportFailure(dep.provider.id, thrown, scope.signal);
    failSpan(span, errorType(err), err.message);
    if (call.cost) {
      const charged = unreported(call, 0, err);
      scope.add(recordOf(dep, charged, performance.now() - started, statusOf(err), charged !== NO_USAGE));
    }
    throw err;
  } finally {
    span.end();
  }
}

/**
 * One streamed raw call: its events as they arrive. The span lasts until the stream ends, fails or is
 * abandoned; the call is charged then — what the stream reported, or for a stream cut short, an
 * estimate of what it used.
 */
export async function* streamCall(
  pools: OriginPools,
  dep: Deployment,
  call: PassthroughCall,
  scope: CallScope,
): AsyncGenerator<RawEvent> {
  const target = targetOf(dep);
  const tap = call.protocol.tap(target);
  const span = startCallSpan(dep, call.span, call.span.operation);
  const started = performance.now();
  let error: UpstreamError | undefined;
  try {
    const { pool, call: request } = await poolCall(pools, dep, call.protocol.request(target), scope.signal);
    const answer = await pool.postStream(request, tap);
    if (!answer.events) throw call.protocol.failure(target, answer);
    for await (const event of answer.events) {
      if (event.error) error = event.error;
      yield event;
    }
    // A stream that stops before its last event was cut, however cleanly the connection closed.
    if (!error && !tap.complete) {
      throw scope.signal.aborted
        ? new UpstreamError(dep.provider.id, 0, 'the call was aborted', { failure: 'aborted' })
        : new UpstreamError(dep.provider.id, 0, 'the stream ended before its last event', {
            failure: 'connection',
          });
    }
  } catch (thrown) {
    error = transportFailure(dep.provider.id, thrown, scope.signal);
    throw error;
  } finally {
    const reported = tap.usage();
    const whole = tap.complete && !error && reported;
    const charged = whole ? reported : unreported(call, tap.generatedChars, error, reported);
    if (error) failSpan(span, errorType(error), error.message);
    else finishSpan(span, dep, charged, tap.finish ?? 'stop', tap.responseModel);
    if (call.cost) {
      const status = error ? statusOf(error) : 200;
      scope.add(recordOf(dep, charged, performance.now() - started, status, !whole));
    }
    span.end();
  }
}
