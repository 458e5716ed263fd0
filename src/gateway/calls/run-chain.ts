/**
 * A model's chain of deployments, tried in order: circuit breaker and provider queue before each try,
 * retries with backoff on the same deployment, then fallback; streams open on the first deployment
 * that produces an event.
 */
import type { ChatRequest, ChatResult, StreamEvent } from '../../chat/index.ts';
import { GatewayError } from '../../errors/index.ts';
import type { ProviderQueues } from '../../limits/index.ts';
import { UpstreamError } from '../../providers/upstream-error.ts';
import type { Attempt, Deployment, HealthTracker } from '../deployments/index.ts';
import type { CallScope } from '../request/index.ts';
import { completeOnce, reportInternal, streamOnce } from './upstream-call.ts';

/** What a chain needs besides the request: per-deployment health, the provider queues, the error log. */
export interface CallServices {
  readonly health: HealthTracker;
  readonly queues: ProviderQueues;
  readonly onError: ((err: Error) => void) | undefined;
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
  const base = { model: dep.spec.id, provider: dep.provider.id, latency_ms };
  if (err instanceof UpstreamError) {
    return { ...base, status: err.status || (err.failure === 'timeout' ? 504 : 502), error: err.message };
  }
  if (err instanceof GatewayError) return { ...base, status: err.status, error: err.message };
  return { ...base, status: 502, error: err instanceof Error ? err.message : String(err) };
}

function describe(attempts: Attempt[]): string {
  return attempts.map((a) => `${a.model} via ${a.provider}: ${a.status} ${a.error ?? ''}`.trim()).join('; ');
}

/** The error a failed chain ends in. */
function chainFailure(
  attempts: Attempt[],
  skipped: number,
  signals: CallScope,
  queueRefusal?: GatewayError,
): GatewayError {
  if (signals.timedOut) {
    return new GatewayError(
      'upstream_timeout',
      `The request ran out of time after ${attempts.length} attempt(s): ${describe(attempts)}`,
    );
  }
  // Every try was refused by a provider queue: say so as the 429 it is, with its retry-after.
  if (
    queueRefusal &&
    attempts.length > 0 &&
    attempts.every((a) => a.status === 429 && a.error === queueRefusal.message)
  ) {
    return queueRefusal;
  }
  const open = skipped ? ` ${skipped} deployment(s) were skipped because their circuit is open.` : '';
  return new GatewayError(
    'upstream_failed',
    attempts.length
      ? `Every model in the chain failed (${attempts.length} attempt(s)): ${describe(attempts)}.${open}`
      : `No deployment could be tried.${open}`,
  );
}

type Decision = 'retry' | 'next' | 'larger' | 'stop';

/** What to do after a failed try; throws when the client's request itself was refused. */
function decide(
  err: unknown,
  dep: Deployment,
  tryIndex: number,
  hasLarger: boolean,
  signals: CallScope,
): Decision {
  if (signals.signal.aborted) return 'stop';
  if (err instanceof GatewayError) return 'next'; // a provider queue refused: another provider may have room
  if (!(err instanceof UpstreamError)) return 'next';
  if (err.failure === 'context_length') {
    if (!hasLarger) throw new GatewayError('context_length_exceeded', err.message);
    return 'larger';
  }
  if (err.isClientError) {
    // The provider refused the request itself: another model would refuse it too, so say why now.
    throw err.toClientError();
  }
  if (err.retryable && tryIndex < dep.provider.max_retries) return 'retry';
  return 'next';
}

/** Whether a failure says something about the deployment's health (for the circuit breaker). */
function countsAgainst(err: unknown): boolean {
  return err instanceof UpstreamError && err.countsAgainstHealth;
}

export interface Tried<T> {
  value: T;
  deployment: Deployment;
  attempts: Attempt[];
}

/**
 * Runs the chain until one deployment succeeds: each try is admitted by the circuit breaker and the
 * provider's queue, retried on the same deployment on retryable failures (backing off, honouring
 * retry-after), then the next one; a prompt too long for a model moves on to a model with a larger
 * context window. `tryOnce` gets a `done` to call when the deployment's work is over (for streams,
 * when the stream ends), which frees its queue slot.
 */
export async function runChain<T>(
  services: CallServices,
  chain: Deployment[],
  signals: CallScope,
  tryOnce: (dep: Deployment, done: () => void) => Promise<T>,
): Promise<Tried<T>> {
  const attempts: Attempt[] = [];
  let skipped = 0;
  let queueRefusal: GatewayError | undefined;
  let minContext = 0;
  for (const [i, dep] of chain.entries()) {
    if (dep.spec.context_window <= minContext) continue;
    const hasLarger = chain.slice(i + 1).some((d) => d.spec.context_window > dep.spec.context_window);
    for (let tryIndex = 0; ; tryIndex++) {
      if (!services.health.begin(dep.spec)) {
        skipped++;
        break;
      }
      let startedAt = performance.now();
      let release: (() => void) | undefined;
      try {
        release = await services.queues.acquire(dep.provider.id, {
          signal: signals.signal,
          deadline: signals.deadlineAt,
        });
        startedAt = performance.now(); // upstream latency only, not the queue wait
        const value = await tryOnce(dep, release);
        const latency_ms = performance.now() - startedAt;
        services.health.succeed(dep.spec, latency_ms);
        attempts.push({
          model: dep.spec.id,
          provider: dep.provider.id,
          status: 200,
          latency_ms: Math.round(latency_ms),
        });
        return { value, deployment: dep, attempts };
      } catch (err) {
        release?.();
        if (countsAgainst(err) || signals.timedOut) services.health.fail(dep.spec);
        else services.health.release(dep.spec);
        reportInternal(services, err);
        if (err instanceof GatewayError) queueRefusal = err;
        attempts.push(attemptOf(dep, err, startedAt));
        let decision: Decision;
        try {
          decision = decide(err, dep, tryIndex, hasLarger, signals);
        } catch (refusal) {
          signals.chainFailed?.(attempts);
          throw refusal;
        }
        if (decision === 'stop') {
          signals.chainFailed?.(attempts);
          throw chainFailure(attempts, skipped, signals);
        }
        if (decision === 'larger') minContext = dep.spec.context_window;
        if (decision !== 'retry') break;
        await sleep(backoffMs(tryIndex, (err as UpstreamError).retryAfterMs), signals.signal);
      }
    }
  }
  signals.chainFailed?.(attempts);
  throw chainFailure(attempts, skipped, signals, queueRefusal);
}

export interface CompleteOutcome {
  result: ChatResult;
  deployment: Deployment;
  attempts: Attempt[];
}

export async function completeChain(
  services: CallServices,
  chain: Deployment[],
  request: ChatRequest,
  signals: CallScope,
): Promise<CompleteOutcome> {
  const { value, deployment, attempts } = await runChain(services, chain, signals, async (dep, done) => {
    try {
      return await completeOnce(dep, request, signals.signal, signals);
    } finally {
      done();
    }
  });
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
 * Events already read, then the rest of the stream; frees the provider-queue slot once the stream
 * ends, however it ends — also when it is closed before it was ever read (a generator that never
 * started would skip its own `finally`, leaking the slot and the upstream call's accounting).
 */
function resumed(
  read: StreamEvent[],
  stream: AsyncGenerator<StreamEvent>,
  done: () => void,
): AsyncIterator<StreamEvent> {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    done();
  };
  return {
    async next() {
      const buffered = read.shift();
      if (buffered) return { done: false, value: buffered };
      try {
        const next = await stream.next();
        if (next.done) release();
        return next;
      } catch (err) {
        release();
        throw err;
      }
    },
    async return() {
      try {
        await stream.return(undefined);
      } finally {
        release();
      }
      return { done: true, value: undefined };
    },
  };
}

/**
 * Opens a stream on the first deployment that produces an event. Failures before the first event fall
 * back like non-streaming calls; after it, nothing is retried (the client may have seen output).
 */
export async function openStreamChain(
  services: CallServices,
  chain: Deployment[],
  request: ChatRequest,
  signals: CallScope,
): Promise<StreamOutcome> {
  const { value, deployment, attempts } = await runChain(services, chain, signals, async (dep, done) => {
    const stream = streamOnce(dep, request, signals.signal, signals);
    // Wait past the `model` preamble for the first event the client would see: a stream that fails
    // before any answer arrives can still fall back, or answer 502/504 like a plain request.
    const preamble: StreamEvent[] = [];
    let first: IteratorResult<StreamEvent>;
    try {
      do first = await stream.next();
      while (!first.done && first.value.type === 'model' && preamble.push(first.value));
    } catch (err) {
      done();
      throw err;
    }
    if (first.done) {
      done();
      throw new UpstreamError(dep.provider.id, 0, 'the stream ended before any answer', {
        failure: 'bad_response',
      });
    }
    const events = [...preamble, first.value];
    return { first: events[0]!, rest: resumed(events.slice(1), stream, done) };
  });
  return { deployment, attempts, ...value };
}
