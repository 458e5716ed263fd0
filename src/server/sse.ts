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
  const end = (error: GatewayError | null, cancelled: boolean) => {
    if (ended) return;
    ended = true;
    options.onEnd(error, cancelled);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) {
          controller.enqueue(DONE);
          controller.close();
          end(null, false);
          return;
        }
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(next.value)}\n\n`));
      } catch (err) {
        const gwErr = toGatewayError(err);
        controller.enqueue(encoder.encode(`event: error\ndata: ${JSON.stringify(gwErr.toBody())}\n\n`));
        controller.enqueue(DONE);
        controller.close();
        end(gwErr, false);
      }
    },
    async cancel() {
      end(null, true);
      await chunks.return(undefined);
    },
  });
}
