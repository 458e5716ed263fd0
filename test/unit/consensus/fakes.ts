import type { Complete, Completion, CompletionRequest } from '../../../consensus/types.ts';

export function done(model: string, content: string, more: Partial<Completion> = {}): Completion {
  return {
    model,
    content,
    usage: { prompt_tokens: 10, completion_tokens: 5 },
    cost_usd: 0.001,
    latency_ms: 100,
    ...more,
  };
}

export const ask = (text: string): CompletionRequest => ({ messages: [{ role: 'user', content: text }] });

export const never = new AbortController().signal;

/** The text of every message in a request, joined: what a fake model "reads". */
export function promptOf(request: CompletionRequest): string {
  return request.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n\n');
}

export function systemOf(request: CompletionRequest): string {
  const m = request.messages.find((x) => x.role === 'system');
  return typeof m?.content === 'string' ? m.content : '';
}

export interface Call {
  model: string;
  request: CompletionRequest;
  signal: AbortSignal;
}

/** A recording fake: `answer` maps a call to content (or a Completion, or throws). */
export function fake(
  answer: (
    model: string,
    request: CompletionRequest,
    n: number,
  ) => string | Completion | Promise<string | Completion>,
): Complete & { calls: Call[] } {
  const calls: Call[] = [];
  const fn = async (model: string, request: CompletionRequest, signal: AbortSignal) => {
    calls.push({ model, request, signal });
    const out = await answer(model, request, calls.length - 1);
    return typeof out === 'string' ? done(model, out) : out;
  };
  return Object.assign(fn, { calls });
}

/** A promise settled from outside, for ordering tests. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves with `value` unless the signal aborts first (then rejects like a real client would). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    promise.then(resolve, reject);
  });
}
