import type { ChatRequest, ChatResult, StreamEvent } from '../chat/index.ts';
import { GatewayError } from '../errors/index.ts';
import { UpstreamError } from '../providers/upstream-error.ts';
import type { Attempt, Deployment } from './deployment.ts';
import { completeOnce, streamOnce } from './upstream-call.ts';

/** The signals one request's upstream calls obey. */
export interface CallSignals {
  /** Aborts everything: client gone or deadline passed. */
  signal: AbortSignal;
  /** Aborted only when the request's deadline passes (to tell 504 from a vanished client). */
  deadline: AbortSignal;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;

function backoffMs(tryIndex: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, BACKOFF_CAP_MS);
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** tryIndex);
  return exp / 2 + Math.random() * (exp / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function attemptOf(dep: Deployment, err: unknown, startedAt: number): Attempt {
  const latency_ms = Math.round(performance.now() - startedAt);
  if (err instanceof UpstreamError) {
    const status = err.status || (err.failure === 'timeout' ? 504 : 502);
    return { model: dep.spec.id, provider: dep.provider.id, status, error: err.message, latency_ms };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { model: dep.spec.id, provider: dep.provider.id, status: 502, error: message, latency_ms };
}

function describe(attempts: Attempt[]): string {
  return attempts.map((a) => `${a.model} via ${a.provider}: ${a.status} ${a.error ?? ''}`.trim()).join('; ');
}

/** The error a failed chain ends in. */
function chainFailure(attempts: Attempt[], signals: CallSignals): GatewayError {
  if (signals.deadline.aborted) {
    return new GatewayError(
      'upstream_timeout',
      `The request ran out of time after ${attempts.length} attempt(s): ${describe(attempts)}`,
    );
  }
  return new GatewayError(
    'upstream_failed',
    `Every model in the chain failed (${attempts.length} attempt(s)): ${describe(attempts)}`,
  );
}

type Decision = 'retry' | 'next' | 'stop';

/** What to do after a failed try; throws when the client's request itself was refused. */
function decide(
  err: unknown,
  dep: Deployment,
  tryIndex: number,
  isLast: boolean,
  signals: CallSignals,
): Decision {
  if (signals.signal.aborted) return 'stop';
  if (!(err instanceof UpstreamError)) return 'next';
  if (err.failure === 'context_length') {
    if (isLast) throw new GatewayError('context_length_exceeded', err.message);
    return 'next';
  }
  if (err.isClientError) {
    // The provider refused the request itself: another model would refuse it too, so say why now.
    throw new GatewayError('upstream_invalid_request', err.message, {
      code: err.code ?? 'upstream_invalid_request',
    });
  }
  if (err.retryable && tryIndex < dep.provider.max_retries) return 'retry';
  return 'next';
}

/**
 * Runs the chain until one deployment succeeds: retries the same deployment on retryable failures
 * (backing off, honouring retry-after), then falls back to the next one.
 */
async function runChain<T>(
  chain: Deployment[],
  signals: CallSignals,
  tryOnce: (dep: Deployment) => Promise<T>,
): Promise<{ value: T; deployment: Deployment; attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  for (const [i, dep] of chain.entries()) {
    for (let tryIndex = 0; ; tryIndex++) {
      const startedAt = performance.now();
      try {
        const value = await tryOnce(dep);
        const latency_ms = Math.round(performance.now() - startedAt);
        attempts.push({ model: dep.spec.id, provider: dep.provider.id, status: 200, latency_ms });
        return { value, deployment: dep, attempts };
      } catch (err) {
        attempts.push(attemptOf(dep, err, startedAt));
        const decision = decide(err, dep, tryIndex, i === chain.length - 1, signals);
        if (decision === 'stop') throw chainFailure(attempts, signals);
        if (decision === 'next') break;
        await sleep(backoffMs(tryIndex, (err as UpstreamError).retryAfterMs), signals.signal);
      }
    }
  }
  throw chainFailure(attempts, signals);
}

export interface CompleteOutcome {
  result: ChatResult;
  deployment: Deployment;
  attempts: Attempt[];
}

export async function completeChain(
  chain: Deployment[],
  request: ChatRequest,
  signals: CallSignals,
): Promise<CompleteOutcome> {
  const { value, deployment, attempts } = await runChain(chain, signals, (dep) =>
    completeOnce(dep, request, signals.signal),
  );
  return { result: value, deployment, attempts };
}

export interface StreamOutcome {
  deployment: Deployment;
  attempts: Attempt[];
  /** The first event, already received: proof the stream is alive before anything reaches the client. */
  first: StreamEvent;
  /** The rest of the stream. */
  rest: AsyncIterator<StreamEvent>;
}

/**
 * Opens a stream on the first deployment that produces an event. Failures before the first event fall
 * back like non-streaming calls; after it, nothing is retried (the client may have seen output).
 */
export async function openStreamChain(
  chain: Deployment[],
  request: ChatRequest,
  signals: CallSignals,
): Promise<StreamOutcome> {
  const { value, deployment, attempts } = await runChain(chain, signals, async (dep) => {
    const rest = streamOnce(dep, request, signals.signal);
    const first = await rest.next();
    if (first.done) {
      throw new UpstreamError(dep.provider.id, 0, 'the stream ended before any event', {
        failure: 'bad_response',
      });
    }
    return { first: first.value, rest };
  });
  return { deployment, attempts, ...value };
}
