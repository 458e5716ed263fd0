/**
 * With several workers, each serves its own share of the requests, but a live tail of the request log
 * (GET /v1/requests/stream) is open on one of them: every worker sends the records it finishes through
 * the primary to the others, which offer them to their own tails. The store is shared, so lists and
 * single records need nothing of this.
 */
import type { RequestLog } from '../request-log/index.ts';
import type { RequestLogSummaryRow } from '../store/index.ts';
import { isLinkMessage, type LinkMessage } from './engine-link.ts';

/** Sends this worker's finished records to the others (one message per batch the log builds). */
export function relayRequestLog(rows: RequestLogSummaryRow[]): void {
  if (process.connected) process.send?.({ q: 'request-log', rows } satisfies LinkMessage);
}

/** Offers the records other workers relay to this worker's live tails; returns the stop. */
export function receiveRequestLog(log: RequestLog): () => void {
  const onMessage = (m: unknown) => {
    if (isLinkMessage(m) && m.q === 'request-log') log.receive(m.rows);
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}
