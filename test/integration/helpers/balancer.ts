/**
 * A tiny round-robin load balancer on 127.0.0.1, for tests that run several `quorum serve` processes
 * behind one address. It follows the rules docs/deploy.md asks of a real one:
 * - an instance is skipped while its /readyz does not answer 200 (polled every `pollMs`);
 * - a request is sent again, to the next instance, only when its connection could not be made
 *   (refused, or reset before it was established): that instance never saw it, so nothing ran or was
 *   charged;
 * - a connection lost after it was made is answered 502 and never retried (the request may have run);
 * - with no instance ready, 503 with an OpenAI-shaped error.
 * Every forward is logged in order, so a test can tell which instance answered what, and when.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';

export interface Forward {
  /** Index of the backend that answered. */
  backend: number;
  /** Position in the balancer's event order when it was sent and when its answer ended. */
  sentAt: number;
  endedAt: number;
  status: number;
}

export interface Balancer {
  url: string;
  /** Answered forwards, in the order they ended. */
  forwards: Forward[];
  /** Connections that could not be made and were tried elsewhere, per backend. */
  refused: number[];
  /** Readiness polls that answered something other than 200, per backend. */
  notReady: number[];
  /** Requests sent to each backend and not yet answered in full. */
  pending: number[];
  /** Requests that lost their connection after it was made (502 to the client). */
  resets: number;
  /** The next position in the event order (for the test's own marks, e.g. "SIGTERM sent"). */
  mark(): number;
  close(): Promise<void>;
}

const json = (message: string, code: string, type = 'service_unavailable') =>
  JSON.stringify({ error: { message, type, param: null, code } });

export async function startBalancer(
  backends: string[],
  options: { pollMs?: number } = {},
): Promise<Balancer> {
  const ready = backends.map(() => false);
  const refused = backends.map(() => 0);
  const notReady = backends.map(() => 0);
  const pending = backends.map(() => 0);
  const forwards: Forward[] = [];
  let seq = 0;
  let next = 0;
  let closed = false;
  const lb = { resets: 0 };

  const poll = async (i: number) => {
    const status = await new Promise<number>((done) => {
      const req = request(`${backends[i]}/readyz`, { agent: false, timeout: 1_000 }, (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => done(0));
      req.end();
    });
    ready[i] = status === 200;
    if (status !== 200) notReady[i]!++;
  };
  const pollMs = options.pollMs ?? 50;
  const polling = (async () => {
    while (!closed) {
      await Promise.all(backends.map((_, i) => poll(i)));
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  await Promise.all(backends.map((_, i) => poll(i)));

  /** Sends the request to backend `i`: the answer, or `retry` when no connection could be made. */
  const forward = (i: number, req: IncomingMessage, body: Buffer) =>
    new Promise<{ res: IncomingMessage; sentAt: number } | 'retry' | 'reset'>((done) => {
      let connected = false;
      const sentAt = seq++;
      const out = request(
        `${backends[i]}${req.url}`,
        { method: req.method, headers: { ...req.headers, connection: 'close' }, agent: false },
        (res) => done({ res, sentAt }),
      );
      out.on('socket', (socket) => socket.once('connect', () => (connected = true)));
      out.on('error', () => done(connected ? 'reset' : 'retry'));
      out.end(body);
    });

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    for (let tries = 0; tries < backends.length * 2; tries++) {
      const candidates = backends.map((_, k) => (next + k) % backends.length).filter((k) => ready[k]);
      const i = candidates[0];
      if (i === undefined) break;
      next = (i + 1) % backends.length;
      pending[i]!++;
      const outcome = await forward(i, req, body);
      if (typeof outcome === 'string') pending[i]!--;
      if (outcome === 'retry') {
        refused[i]!++;
        ready[i] = false;
        continue;
      }
      if (outcome === 'reset') {
        lb.resets++;
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(
          json('The instance closed the connection before answering.', 'upstream_reset', 'upstream_error'),
        );
        return;
      }
      const { res: answer, sentAt } = outcome;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('error', () => {
        pending[i]!--;
        lb.resets++;
        res.destroy();
      });
      answer.on('end', () => {
        pending[i]!--;
        forwards.push({ backend: i, sentAt, endedAt: seq++, status: answer.statusCode ?? 0 });
      });
      return;
    }
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(json('No instance is ready.', 'no_instance_ready'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    forwards,
    refused,
    notReady,
    pending,
    get resets() {
      return lb.resets;
    },
    mark: () => seq++,
    async close() {
      closed = true;
      await polling;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
