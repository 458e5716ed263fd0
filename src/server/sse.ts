/**
 * The SSE body of a streamed reply: chunk objects written the moment they exist, ending `data: [DONE]`
 * — after an `event: error` when the stream failed — and never a hang or a throw once the client left.
 */
import type { GatewayError } from '../errors/index.ts';
import { chunkJson } from '../gateway/index.ts';
import { eventStreamBody } from './event-stream.ts';

const DONE = 'data: [DONE]\n\n';

export interface SseOptions {
  /** Called once when the stream ends for any reason (finished, failed or client gone). */
  onEnd(error: GatewayError | null, cancelled: boolean): void;
  /** One chunk's frame (default: `data: <JSON>`); e.g. the Responses API names each event. */
  frame?: (chunk: Record<string, unknown>) => string;
  /** A failure's frame (default: `event: error` with the error body). */
  errorFrame?: (error: GatewayError) => string;
  /** Whether the stream ends `data: [DONE]` (default true; the Responses API has no such line). */
  done?: boolean;
}

const dataFrame = (chunk: Record<string, unknown>) => `data: ${chunkJson(chunk)}\n\n`;
const errorEvent = (error: GatewayError) => `event: error\ndata: ${JSON.stringify(error.toBody())}\n\n`;

/**
 * Turns chunk objects into an SSE body. Each chunk is written the moment it exists (pull-based, no
 * re-buffering). A failure after the first byte ends with an `error` event and `[DONE]`, never a hang;
 * a client that goes away cancels the generator, which aborts the upstream call.
 */
export function sseBody(
  chunks: AsyncGenerator<Record<string, unknown>>,
  options: SseOptions,
): ReadableStream<Uint8Array> {
  const frame = options.frame ?? dataFrame;
  const errorFrame = options.errorFrame ?? errorEvent;
  const done = options.done ?? true;
  return eventStreamBody(frames(chunks, frame, done), {
    onEnd: options.onEnd,
    errorFrame: (error) => errorFrame(error) + (done ? DONE : ''),
  });
}

/**
 * Each chunk's frame, then `[DONE]`; returning early returns the chunks (the reply's cleanup). Not a
 * generator: one promise per frame rather than a generator's own on top of the chunks'.
 */
function frames(
  chunks: AsyncGenerator<Record<string, unknown>>,
  frame: (chunk: Record<string, unknown>) => string,
  done: boolean,
): AsyncIterator<string> {
  let ended = false;
  const close = async () => {
    ended = true;
    await chunks.return(undefined);
  };
  const toFrame = (
    next: IteratorResult<Record<string, unknown>>,
  ): IteratorResult<string> | Promise<IteratorResult<string>> => {
    if (!next.done) {
      try {
        return { done: false, value: frame(next.value) };
      } catch (err) {
        // As a for-await loop would: the chunks are closed before the failure goes on.
        return close().then(() => Promise.reject(err));
      }
    }
    if (done && !ended) {
      ended = true;
      return { done: false, value: DONE };
    }
    ended = true;
    return { done: true, value: undefined };
  };
  const failed = (err: unknown): never => {
    ended = true;
    throw err;
  };
  return {
    next: () =>
      ended ? Promise.resolve({ done: true, value: undefined }) : chunks.next().then(toFrame, failed),
    return: async () => {
      await close();
      return { done: true, value: undefined };
    },
  };
}
