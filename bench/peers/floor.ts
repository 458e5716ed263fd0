/**
 * The floor: the least a Node proxy can do per request on this machine. A node:http server (the server
 * library under Quorum's Hono app) that forwards every request to one upstream over an undici `Pool`
 * (the client Quorum uses for OpenAI-compatible upstreams). No parsing, no auth, no logic: method, path,
 * headers and body go through; status, headers and body come back. Bodies are handled as Quorum handles
 * them: a request body and a whole answer are read into one buffer and written in one piece, an event
 * stream is passed on chunk by chunk. (Piping whole bodies through streams instead costs about twice the
 * CPU per request here, and that cost is the proxy's choice, not Node's floor.)
 *
 *   BENCH_FLOOR_UPSTREAM=http://127.0.0.1:<fake> node bench/peers/floor.ts
 *
 * Protocol of the bench's children (bench/fake-server.ts): prints `{"port": N, "client": "..."}` once
 * listening on 127.0.0.1; exits on SIGTERM/SIGINT or when stdin closes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const upstream = new URL(process.env.BENCH_FLOOR_UPSTREAM ?? '');
const pool = new Pool(upstream.origin, { connections: 128 });
/** Headers that belong to one connection, not to the request or the answer. */
const HOP = ['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'];

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = { ...req.headers };
  for (const h of HOP) delete headers[h];
  const answer = await pool.request({
    path: req.url ?? '/',
    method: req.method as 'POST',
    headers,
    body: await readAll(req),
  });
  const out = answer.headers as Record<string, string>;
  for (const h of HOP) delete out[h];
  // the client may have gone (a load phase ending): drop the answer
  if (res.destroyed) return void answer.body.on('error', () => {}).destroy();
  res.writeHead(answer.statusCode, out);
  if (String(out['content-type']).startsWith('text/event-stream')) {
    await pipeline(answer.body, res);
  } else {
    res.end(Buffer.from(await answer.body.arrayBuffer()));
  }
}

const server = createServer((req, res) => {
  forward(req, res).catch(() => {
    if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
    else res.destroy();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port, client: 'undici Pool' })}\n`);
});

const stop = () => process.exit(0);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
