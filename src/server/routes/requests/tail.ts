/**
 * GET /v1/requests/stream: an SSE body of the requests that finish from now on, in the caller's scope
 * and filters — `event: request`, `id:` the request id, `data:` the list's item — with a comment line as
 * a heartbeat so proxies keep the connection open. It ends cleanly when the client goes (the
 * subscription and the timer are released), when the server shuts down, and when a client stops
 * reading: past a bounded backlog it is closed rather than buffered without end (reconnect, and catch
 * up with the list).
 */
import type { Published, RequestFilter, TailHub } from '../../../request-log/index.ts';

export const HEARTBEAT_MS = 15_000;
/** Frames queued for a client that does not read before its tail is closed. */
export const MAX_BACKLOG = 1_000;
/** The comment a tail opens with. */
export const TAIL_OPEN = 'live tail: requests that finish from now on follow';

const encoder = new TextEncoder();

export function tailBody(
  hub: TailHub,
  filter: RequestFilter,
  options: { heartbeatMs?: number; maxBacklog?: number } = {},
): ReadableStream<Uint8Array> {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const maxBacklog = options.maxBacklog ?? MAX_BACKLOG;
  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const stop = () => {
    closed = true;
    clearInterval(timer);
    unsubscribe();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const end = () => {
          if (closed) return;
          stop();
          controller.close();
        };
        const write = (text: string) => {
          if (closed) return;
          // desiredSize counts down as frames queue unread: a client that stopped reading is let go.
          if ((controller.desiredSize ?? 0) <= -maxBacklog) return end();
          controller.enqueue(encoder.encode(text));
        };
        controller.enqueue(encoder.encode(`: ${TAIL_OPEN}\n\n`));
        if (hub.closed) return end();
        unsubscribe = hub.subscribe(
          filter,
          (record: Published) => write(`event: request\nid: ${record.row.id}\ndata: ${record.json}\n\n`),
          end,
        );
        timer = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
        timer.unref();
      },
      // The client went away.
      cancel() {
        stop();
      },
    },
    { highWaterMark: 1, size: () => 1 },
  );
}
