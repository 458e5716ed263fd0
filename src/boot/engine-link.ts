/**
 * With several workers, exactly one of them (slot 1) runs the workflow engine: it holds each live run's
 * state and lock, so two engines on one store could run a step twice. The other workers serve the run
 * endpoints through a stand-in that forwards each engine call over the cluster's IPC channel (through
 * the primary) to the engine worker, and publish the run events it broadcasts to their own event
 * streams. Authentication, host checks and team scoping stay in the worker that took the request.
 */
import { GatewayError } from '../errors/index.ts';
import { type RequestLogSummaryRow, StoreError } from '../store/index.ts';
import { type Engine, EngineError } from '../workflows/engine/index.ts';
import type { EventHub } from '../workflows/event-hub.ts';
import type { RunEvent } from '../workflows/state.ts';

/** The engine methods the run endpoints use; nothing else crosses the channel. */
const METHODS = ['start', 'get', 'wait', 'approve', 'editOutput', 'rerun', 'cancel'] as const;
type Method = (typeof METHODS)[number];

interface WireError {
  name: string;
  message: string;
  code?: string;
  kind?: string;
  param?: string | null;
  problems?: unknown[];
  headers?: Record<string, string>;
}

export type LinkMessage =
  | { q: 'engine-call'; id: number; method: Method; args: unknown[]; from?: number }
  | { q: 'engine-reply'; id: number; to?: number; ok: true; value: unknown }
  | { q: 'engine-reply'; id: number; to?: number; ok: false; error: WireError }
  | { q: 'run-event'; event: RunEvent }
  /** Records of requests a worker finished, for the other workers' live tails (log-link.ts). */
  | { q: 'request-log'; rows: RequestLogSummaryRow[] }
  | { q: 'engine-gone' }
  | { q: 'listening'; url: string };

export const isLinkMessage = (m: unknown): m is LinkMessage =>
  typeof m === 'object' && m !== null && typeof (m as { q?: unknown }).q === 'string';

/** Sent while no engine worker is up (restarting): the call did nothing and may be retried. */
export const ENGINE_UNAVAILABLE: WireError = {
  name: 'GatewayError',
  kind: 'not_ready',
  message: 'The workflow engine is restarting (its worker exited); retry in a moment.',
  headers: { 'retry-after': '1' },
};

function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & Partial<WireError> & { kind?: string };
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(e.kind !== undefined ? { kind: e.kind } : {}),
    ...(e.param !== undefined ? { param: e.param } : {}),
    ...(Array.isArray(e.problems) ? { problems: e.problems } : {}),
    ...(e.headers ? { headers: e.headers } : {}),
  };
}

/** The error as the route's error mapping expects it (same class, code and problems). */
function fromWire(w: WireError): Error {
  switch (w.name) {
    case 'EngineError':
      return new EngineError(w.code as never, w.message, (w.problems ?? []) as never);
    case 'StoreError':
      return new StoreError(w.code as never, w.message, w.param ?? null);
    case 'GatewayError':
      return new GatewayError(w.kind as never, w.message, {
        ...(w.param !== undefined ? { param: w.param } : {}),
        ...(w.code !== undefined && w.code !== w.kind ? { code: w.code } : {}),
        ...(w.headers ? { headers: w.headers } : {}),
      });
    default: {
      // A database failure keeps its code, so it still answers 503 rather than 500.
      const e = new Error(w.message) as Error & { code?: string };
      if (w.code !== undefined) e.code = w.code;
      return e;
    }
  }
}

const send = (message: LinkMessage) => process.send?.(message);

/** In the engine worker: answers forwarded calls and broadcasts every run event. */
export function serveEngine(engine: Engine): { publish: (event: RunEvent) => void; stop: () => void } {
  const onMessage = (m: unknown) => {
    if (!isLinkMessage(m) || m.q !== 'engine-call' || !METHODS.includes(m.method)) return;
    const reply = (r: { ok: true; value: unknown } | { ok: false; error: WireError }) =>
      send({ q: 'engine-reply', id: m.id, ...(m.from !== undefined ? { to: m.from } : {}), ...r });
    (engine[m.method] as (...args: unknown[]) => Promise<unknown>).apply(engine, m.args).then(
      (value) => reply({ ok: true, value }),
      (err) => reply({ ok: false, error: toWire(err) }),
    );
  };
  process.on('message', onMessage);
  return {
    publish: (event) => send({ q: 'run-event', event }),
    stop: () => process.off('message', onMessage),
  };
}

/**
 * In another worker: an Engine stand-in for the run endpoints. Calls fail with a retryable 503 while
 * the engine worker is down; events it broadcasts reach this worker's event streams.
 */
export function remoteEngine(hub: EventHub): Engine {
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  process.on('message', (m: unknown) => {
    if (!isLinkMessage(m)) return;
    if (m.q === 'run-event') hub.publish(m.event);
    else if (m.q === 'engine-reply') {
      const call = pending.get(m.id);
      if (!call) return;
      pending.delete(m.id);
      if (m.ok) call.resolve(m.value);
      else call.reject(fromWire(m.error));
    } else if (m.q === 'engine-gone') {
      for (const call of pending.values()) call.reject(fromWire(ENGINE_UNAVAILABLE));
      pending.clear();
    }
  });
  const call =
    (method: Method) =>
    (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, { resolve, reject });
        send({ q: 'engine-call', id, method, args });
      });
  const stand: Record<string, unknown> = { resume: async () => [] };
  for (const method of METHODS) stand[method] = call(method);
  // The run endpoints call only METHODS; the class's private state stays in the engine worker.
  return stand as unknown as Engine;
}
