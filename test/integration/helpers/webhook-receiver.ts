/**
 * A webhook receiver on 127.0.0.1 for the alert suites: it keeps every request (headers and raw body)
 * and answers 500 to the first `failFirst` tries of each alert (by `x-quorum-alert-id`), then 200.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  alertId: string;
  signature: string | undefined;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export interface Receiver {
  url: string;
  calls: ReceivedCall[];
  /** The calls answered 2xx: what the receiver accepted. */
  accepted(): ReceivedCall[];
  close(): Promise<void>;
}

export async function startReceiver(options: { failFirst?: number } = {}): Promise<Receiver> {
  const calls: ReceivedCall[] = [];
  const tries = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const alertId = String(req.headers['x-quorum-alert-id'] ?? '');
      const n = (tries.get(alertId) ?? 0) + 1;
      tries.set(alertId, n);
      const status = n <= (options.failFirst ?? 0) ? 500 : 200;
      calls.push({
        alertId,
        signature: req.headers['x-quorum-signature'] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
      });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/quorum`,
    calls,
    accepted: () => calls.filter((c) => c.status === 200),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
