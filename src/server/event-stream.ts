/**
 * An SSE body of ready-written frames (chat chunks as `data:` lines, the Messages and Responses
 * surfaces' named events), each written the moment it exists; a failure after the first byte ends the
 * stream with the surface's `error` event, and a client that goes away closes the frames (which ends
 * the upstream call and settles the request).
 *
 * Frames that exist in the same turn of the event loop (an upstream read that carried several events)
 * go out as one write: the first schedules the write for the end of the turn (`process.nextTick`,
 * which runs once the promise jobs that produce the others are done), so nothing waits for other I/O.
 * One write instead of one per frame spares Node's chunked encoding three pieces and a buffer a frame.
 * While the client does not keep up, no frame is read beyond the one in flight.
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
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Frames read this turn, not yet written. */
  let text = '';
  let reading = false;
  let writeScheduled = false;
  /** The frames ended (or failed): close once what is buffered is written. */
  let last = false;
  let failure: GatewayError | null = null;
  let ended = false;
  let cancelled = false;

  const end = (error: GatewayError | null, gone: boolean) => {
    if (ended) return;
    ended = true;
    options.onEnd(error, gone);
  };
  /**
   * Our own failure while writing (a bug, not the upstream's, which is an error frame): the stream
   * errors and the frames are closed. Nothing is thrown: these run in a tick or a promise job, where a
   * throw would end the process.
   */
  const broken = (err: unknown) => {
    if (cancelled) return;
    cancelled = true;
    try {
      controller.error(err);
    } catch {}
    try {
      end(toGatewayError(err), false);
    } catch {}
    frames.return?.(undefined).catch(() => {});
  };
  const wantsMore = () => (controller.desiredSize ?? 0) > 0;
  const write = () => {
    writeScheduled = false;
    if (cancelled) return;
    try {
      // Buffer.from takes small frames from Node's shared pool; TextEncoder allocates a buffer each.
      if (text) controller.enqueue(Buffer.from(text));
      text = '';
      if (last) {
        controller.close();
        end(failure, false);
      } else if (wantsMore()) read();
    } catch (err) {
      broken(err);
    }
  };
  const scheduleWrite = () => {
    if (writeScheduled) return;
    writeScheduled = true;
    process.nextTick(write);
  };
  const onFrame = (next: IteratorResult<string>) => {
    reading = false;
    if (cancelled) return;
    // A write already waits for the end of this turn: this frame came in the same turn as others.
    const sameTurn = writeScheduled;
    if (next.done) last = true;
    else text += next.value;
    scheduleWrite();
    // The next frame may be ready in this turn too. A frame that starts a turn is followed only while
    // the client keeps up; otherwise reading resumes when the stream asks for more (pull).
    if (!last && (sameTurn || wantsMore())) read();
  };
  const onFailure = (err: unknown) => {
    reading = false;
    if (cancelled) return;
    failure = toGatewayError(err);
    text += options.errorFrame(failure);
    last = true;
    scheduleWrite();
  };
  function read() {
    if (reading || last || cancelled) return;
    reading = true;
    let next: Promise<IteratorResult<string>>;
    try {
      next = frames.next();
    } catch (err) {
      next = Promise.reject(err);
    }
    next.then(onFrame, onFailure).catch(broken);
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      read();
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
