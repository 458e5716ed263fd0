/**
 * An SSE body of ready-written frames (the Anthropic Messages surface: named events, no `[DONE]`),
 * each written the moment it exists; a failure after the first byte ends the stream with the
 * surface's `error` event, and a client that goes away closes the frames (which ends the upstream call
 * and settles the request).
 */
import { type GatewayError, toGatewayError } from '../errors/index.ts';

export interface EventStreamOptions {
  /** Called once when the stream ends for any reason (finished, failed or client gone). */
  onEnd(error: GatewayError | null, cancelled: boolean): void;
  /** The frame that tells the client the stream failed. */
  errorFrame(error: GatewayError): string;
}

export function eventStreamBody(
  frames: AsyncIterator<string>,
  options: EventStreamOptions,
): ReadableStream<Uint8Array> {
  let ended = false;
  let cancelled = false;
  const end = (error: GatewayError | null, gone: boolean) => {
    if (ended) return;
    ended = true;
    options.onEnd(error, gone);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let frame: string;
      let error: GatewayError | null = null;
      let last = false;
      try {
        const next = await frames.next();
        last = next.done === true;
        frame = next.done ? '' : next.value;
      } catch (err) {
        error = toGatewayError(err);
        frame = options.errorFrame(error);
        last = true;
      }
      if (cancelled) return;
      // Buffer.from takes small frames from Node's shared pool; TextEncoder allocates a buffer for each.
      if (frame) controller.enqueue(Buffer.from(frame));
      if (!last) return;
      controller.close();
      end(error, false);
    },
    async cancel() {
      cancelled = true;
      try {
        end(null, true);
      } finally {
        await frames.return?.(undefined).catch(() => {});
      }
    },
  });
}
