/**
 * The floor: the least a Node proxy can do per request on this machine. A node:http server (the server
 * library under Quorum's Hono app) that forwards every request to one upstream over an undici `Pool`
 * (the client Quorum uses for OpenAI-compatible upstreams) and streams the answer back. No parsing, no
 * auth, no logic: method, path, headers and body go through; status, headers and body come back.
 *
 *   BENCH_FLOOR_UPSTREAM=http://127.0.0.1:<fake> node bench/peers/floor.ts
 *
 * Protocol of the bench's children (bench/fake-server.ts): prints `{"port": N, "client": "..."}` once
 * listening on 127.0.0.1; exits on SIGTERM/SIGINT or when stdin closes. If undici is not installed the
 * floor falls back to node:http's keep-alive Agent and says so in `client`.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline, type Readable } from 'node:stream';

const upstream = new URL(process.env.BENCH_FLOOR_UPSTREAM ?? '');
/** Response headers that belong to one connection, not to the answer. */
const HOP = ['connection', 'keep-alive', 'transfer-encoding'];

type Forward = (
  req: IncomingMessage,
) => Promise<{ status: number; headers: IncomingHttpHeaders; body: Readable }>;

async function undiciForward(): Promise<Forward | null> {
  // A name in a variable: the bench typechecks whether or not undici is installed.
  const name = 'undici';
  let undici: any;
  try {
    undici = await import(name);
  } catch {
    return null;
  }
  const pool = new undici.Pool(upstream.origin, { connections: 128 });
  return async (req) => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const r = await pool.request({
      path: req.url ?? '/',
      method: req.method as 'POST',
      headers,
      body: req,
    });
    return { status: r.statusCode as number, headers: r.headers as IncomingHttpHeaders, body: r.body };
  };
}

function nodeHttpForward(): Forward {
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  return (req) =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers };
      delete headers.host;
      delete headers.connection;
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, agent },
        (res) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res }),
      );
      out.once('error', reject);
      pipeline(req, out, () => {});
    });
}

const undiciClient = await undiciForward();
const forward = undiciClient ?? nodeHttpForward();

const server = createServer((req, res) => {
  forward(req).then(
    ({ status, headers, body }) => {
      // the client may have gone (a load phase ending): drop the answer
      if (res.destroyed) return void body.on('error', () => {}).destroy();
      for (const h of HOP) delete headers[h];
      res.writeHead(status, headers as Record<string, string>);
      pipeline(body, res, () => {});
    },
    () => {
      if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
    },
  );
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ port, client: undiciClient ? 'undici Pool' : 'node:http Agent' })}\n`,
  );
});

const stop = () => process.exit(0);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
