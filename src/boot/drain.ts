/**
 * How the HTTP listener ends on SIGTERM: /readyz has already turned 503 (the caller's lifecycle), then
 * requests are still accepted for `delayMs` (a load balancer polling /readyz stops sending meanwhile),
 * then the listener closes (new connections are refused), every request in flight finishes — streams
 * included — and each connection closes as soon as its last response is out, and whatever is still
 * open after `timeoutMs` is cut. Connections the kernel has already queued when the listener is to close
 * are accepted first, so they are answered rather than reset.
 */
import type { Server } from 'node:http';
import { setImmediate as turn } from 'node:timers/promises';

export type Listener = Server & { closeIdleConnections?(): void; closeAllConnections?(): void };

export interface DrainOptions {
  /** Keep accepting this long before closing the listener. */
  delayMs: number;
  /** Cut what is still open this long after the listener closed. */
  timeoutMs: number;
  /** Cut open connections at once (tests, a second signal). */
  force?: boolean;
  /** Told how many connections the timeout cut. */
  onCut?: (connections: number) => void;
}

/**
 * Marks every response of a draining listener `Connection: close`, and closes a kept-alive connection
 * the moment its response ends (Node would otherwise keep it for the keep-alive timeout, holding the
 * drain open). Install once, right after the listener starts.
 */
export function closeWhenDraining(server: Listener, draining: () => boolean): void {
  server.prependListener('request', (_req, res) => {
    if (draining() && !res.headersSent) res.setHeader('connection', 'close');
    res.once('finish', () => {
      if (draining()) setImmediate(() => server.closeIdleConnections?.());
    });
  });
}

/** How long the listener may go on accepting what was already queued before it closes. */
const ACCEPT_QUEUED_MS = 100;

/**
 * Accepts the connections the kernel has completed but Node has not yet taken: closing the listener
 * with them in its queue resets them. Node takes one per event-loop turn, so this turns the loop until
 * two turns in a row take none (bounded: under a steady stream of new connections some are always
 * queued, which is what `drain_delay_ms` is for).
 */
async function acceptQueued(server: Listener): Promise<void> {
  let accepted = 0;
  const count = () => {
    accepted++;
  };
  server.on('connection', count);
  try {
    const until = performance.now() + ACCEPT_QUEUED_MS;
    for (let before = -1; accepted !== before && performance.now() < until; ) {
      before = accepted;
      await turn();
      await turn();
    }
  } finally {
    server.off('connection', count);
  }
}

export async function drainListener(server: Listener, options: DrainOptions): Promise<void> {
  if (!options.force && options.delayMs > 0) await new Promise((r) => setTimeout(r, options.delayMs));
  if (!options.force) await acceptQueued(server);
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    if (options.force) {
      server.closeAllConnections?.();
      return;
    }
    // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
    server.closeIdleConnections?.();
    timer = setTimeout(() => {
      server.getConnections((_err, open) => {
        if (open > 0) options.onCut?.(open);
        server.closeAllConnections?.();
      });
    }, options.timeoutMs);
    timer.unref();
  });
}
