/**
 * The SSE body of a streamed reply: chunk objects written the moment they exist, ending `data: [DONE]`
 * — after an `event: error` when the stream failed — and never a hang or a throw once the client left.
 */
import { type GatewayError, toGatewayError } from '../errors/index.ts';

const encoder = new TextEncoder();
const DONE = encoder.encode('data: [DONE]\n\n');

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

const dataFrame = (chunk: Record<string, unknown>) => `data: ${JSON.stringify(chunk)}\n\n`;
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
  let ended = false;
  // Set when the client went away: the controller is closed and must not be written to again.
  let cancelled = false;
  const end = (error: GatewayError | null, gone: boolean) => {
    if (ended) return;
    ended = true;
    options.onEnd(error, gone);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const frames: Uint8Array[] = [];
      let error: GatewayError | null = null;
      let last = false;
      try {
        const next = await chunks.next();
        if (next.done) last = true;
        else frames.push(encoder.encode(frame(next.value)));
      } catch (err) {
        error = toGatewayError(err);
        frames.push(encoder.encode(errorFrame(error)));
        last = true;
      }
      if (cancelled) return;
      for (const bytes of frames) controller.enqueue(bytes);
      if (!last) return;
      if (done) controller.enqueue(DONE);
      controller.close();
      end(error, false);
    },
    async cancel() {
      cancelled = true;
      try {
        end(null, true);
      } finally {
        // The reply's own cleanup failing must not surface here: no one awaits a cancelled body.
        await chunks.return(undefined).catch(() => {});
      }
    },
  });
}
