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
}

/**
 * Turns chunk objects into an SSE body. Each chunk is written the moment it exists (pull-based, no
 * re-buffering). A failure after the first byte ends with an `error` event and `[DONE]`, never a hang;
 * a client that goes away cancels the generator, which aborts the upstream call.
 */
export function sseBody(
  chunks: AsyncGenerator<Record<string, unknown>>,
  options: SseOptions,
): ReadableStream<Uint8Array> {
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
        else frames.push(encoder.encode(`data: ${JSON.stringify(next.value)}\n\n`));
      } catch (err) {
        error = toGatewayError(err);
        frames.push(encoder.encode(`event: error\ndata: ${JSON.stringify(error.toBody())}\n\n`));
        last = true;
      }
      if (cancelled) return;
      for (const frame of frames) controller.enqueue(frame);
      if (!last) return;
      controller.enqueue(DONE);
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
