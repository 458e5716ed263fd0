/**
 * Talking to a running gateway's HTTP API from the CLI (`quorum run --server`, `quorum runs`): JSON
 * calls whose errors carry the server's message, and a run's SSE event stream read frame by frame.
 */

/** Where `quorum runs` finds the gateway when neither --server nor QUORUM_URL says. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export const serverFrom = (flag: string | undefined, env = process.env) =>
  (flag ?? (env.QUORUM_URL || DEFAULT_SERVER)).replace(/\/+$/, '');

/**
 * The bearer key: --key, else QUORUM_KEY, else QUORUM_API_KEY; with `operator`, QUORUM_MASTER_KEY last
 * (managing runs across teams is the operator's; starting one as the operator would charge no team).
 */
export const keyFrom = (flag: string | undefined, { operator = false, env = process.env } = {}) =>
  flag ??
  (env.QUORUM_KEY || env.QUORUM_API_KEY || (operator ? env.QUORUM_MASTER_KEY : undefined) || undefined);

/** The server answered with an error: its status and its message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface Client {
  readonly base: string;
  /** A JSON call; throws ApiError with the server's message when it answers an error. */
  api(method: string, path: string, body?: string, type?: string): Promise<any>;
  /** Opens a run's event stream, after the event `after` (Last-Event-ID) when given. */
  events(runId: string, after: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
}

export function createClient(server: string, key: string | undefined): Client {
  const base = server.replace(/\/+$/, '');
  const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  return {
    base,
    async api(method, path, body, type = 'application/json') {
      const res = await fetch(base + path, {
        method,
        headers: { ...auth, ...(body !== undefined ? { 'content-type': type } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      let json: any = null;
      try {
        json = JSON.parse(text);
      } catch {}
      if (!res.ok) throw new ApiError(res.status, json?.error?.message ?? (text || res.statusText));
      return json;
    },
    async events(runId, after, signal) {
      const res = await fetch(`${base}/v1/runs/${encodeURIComponent(runId)}/events`, {
        headers: {
          ...auth,
          accept: 'text/event-stream',
          ...(after ? { 'last-event-id': String(after) } : {}),
        },
        signal,
      });
      if (!res.ok || !res.body) {
        let message = `cannot follow the run's events (${res.status})`;
        try {
          message = JSON.parse(await res.text())?.error?.message ?? message;
        } catch {}
        throw new ApiError(res.status, message);
      }
      return res.body;
    },
  };
}

/** Why a request never got an answer (connection refused, unknown host…), or null for other errors. */
export function unreachable(e: unknown, base: string): string | null {
  if (!(e instanceof TypeError)) return null;
  const cause = (e as Error & { cause?: Error & { code?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') {
    return `no gateway at ${base}: start it with \`npm start\` or pass --server`;
  }
  return `cannot reach ${base}: ${cause?.message ?? e.message}`;
}

export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
  /** A comment-only frame's text (yielded only when asked for). */
  comment?: string;
}

/** Reads `text/event-stream` frames as they arrive. */
export async function* sseFrames(
  body: ReadableStream<Uint8Array>,
  options: { comments?: boolean } = {},
): AsyncGenerator<SseFrame> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const frame: SseFrame = { data: '' };
        const data: string[] = [];
        const comments: string[] = [];
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon === 0) {
            comments.push(line.slice(1).trim());
            continue;
          }
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(value);
          else if (field === 'id') frame.id = value;
          else if (field === 'event') frame.event = value;
        }
        frame.data = data.join('\n');
        if (data.length) yield frame;
        else if (options.comments && comments.length) yield { data: '', comment: comments.join('\n') };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** A run event as read from the stream: the engine's fields plus whatever the event carries. */
export interface StreamEvent {
  seq: number | undefined;
  type: string;
  run_id?: string | undefined;
  step?: string | undefined;
  data: Record<string, unknown>;
  /** Epoch ms. */
  at: number;
}

/** One SSE frame of a run's stream as an event; null for a frame that is not one. */
export function streamEvent(frame: SseFrame): StreamEvent | null {
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(frame.data);
  } catch {
    return null;
  }
  if (!payload || typeof payload !== 'object') return null;
  const { seq, type, run_id, step, at, ...data } = payload;
  return {
    seq: typeof seq === 'number' ? seq : undefined,
    type: String(type ?? frame.event),
    run_id: typeof run_id === 'string' ? run_id : undefined,
    step: typeof step === 'string' ? step : undefined,
    data,
    at: typeof at === 'string' ? Date.parse(at) : Date.now(),
  };
}

/** Events after which the server ends the stream: the run is over. */
export const TERMINAL_EVENTS = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);
export const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
