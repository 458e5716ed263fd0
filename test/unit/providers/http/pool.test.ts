/**
 * The OpenAI-compatible adapters' HTTP client (undici pool): connections are kept and reused, a call
 * given up frees its connection, and every bound of the SDKs' fetch holds (idle close, event-line
 * size, memory of whole answers together), whatever the upstream does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallAbortedError, CallTimeoutError, TransportError } from '../../../../src/providers/http/errors.ts';
import { MAX_BUFFERED_BYTES } from '../../../../src/providers/http/limits.ts';
import {
  type PoolCall,
  type SseReader,
  type StreamAnswer,
  UpstreamPool,
  type WholeAnswer,
} from '../../../../src/providers/http/pool.ts';
import { sendHugeLine } from './huge-line.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** One request the local server received: the connection it came on, and whether it was cut. */
interface Seen {
  socket: Socket;
  /** The client went away before the answer was complete. */
  cut: boolean;
  /** The answer was sent in full. */
  finished: boolean;
}

/** A local server that counts the connections opened to it and remembers each request. */
interface Local {
  url: string;
  opened: number;
  closed: Set<Socket>;
  requests: Seen[];
  server: Server;
}

async function startLocal(handler: Handler): Promise<Local> {
  const local: Local = {
    url: '',
    opened: 0,
    closed: new Set(),
    requests: [],
    server: createServer(async (req, res) => {
      const seen: Seen = { socket: req.socket, cut: false, finished: false };
      local.requests.push(seen);
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      res.on('finish', () => {
        seen.finished = true;
      });
      res.on('close', () => {
        if (!res.writableFinished) seen.cut = true;
      });
      handler(req, res, Buffer.concat(chunks).toString());
    }),
  };
  local.server.on('connection', (socket) => {
    local.opened++;
    socket.on('close', () => local.closed.add(socket));
  });
  await new Promise<void>((r) => local.server.listen(0, '127.0.0.1', r));
  local.url = `http://127.0.0.1:${(local.server.address() as AddressInfo).port}`;
  return local;
}

/** The last request's connection was closed, and its answer cut short. */
const lastCut = (local: Local) => {
  const last = local.requests.at(-1)!;
  return last.cut && local.closed.has(last.socket);
};

async function stopLocal(local: Local) {
  local.server.closeAllConnections();
  await new Promise((r) => local.server.close(r));
}

const call = (signal = new AbortController().signal, path = '/', timeoutMs = 30_000): PoolCall => ({
  path,
  headers: ['content-type', 'application/json', 'authorization', 'Bearer k'],
  body: '{"x":"é"}',
  signal,
  timeoutMs,
});

/** Each event's data, unparsed; `[DONE]` ends the stream. */
const lines: SseReader<string> = {
  event(data, _name, out) {
    if (data === '[DONE]') return false;
    out.push(data);
    return true;
  },
};

async function collect(answer: WholeAnswer | StreamAnswer<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of answer.events!) out.push(item);
  return out;
}

const waitFor = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
};

const pools: UpstreamPool[] = [];
const poolFor = (local: Local) => {
  const pool = new UpstreamPool(local.url);
  pools.push(pool);
  return pool;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('UpstreamPool: requests and answers', () => {
  let local: Local;
  let releaseSecond: () => void = () => {};
  beforeAll(async () => {
    local = await startLocal((req, res, body) => {
      if (req.url === '/echo') {
        res.writeHead(201, { 'content-type': 'application/json', 'retry-after': '3' });
        res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization }));
      } else if (req.url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        // The second event only once the reader has taken the first: an answer read to its end first would hang.
        new Promise<void>((r) => {
          releaseSecond = r;
        }).then(() => res.end('data: two\n\ndata: [DONE]\n\n'));
      } else if (req.url === '/sse-error') {
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"slow down"}}');
      } else if (req.url === '/hang') {
        // never answers
      } else if (req.url === '/slow-sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        const timer = setInterval(() => res.write('data: more\n\n'), 10);
        res.on('close', () => clearInterval(timer));
      } else if (req.url === '/stall-json') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"choices": [');
      } else if (req.url === '/reset-json') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"choices": [', () => req.socket.resetAndDestroy());
      } else if (req.url === '/truncated-chunked') {
        req.socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
            'b\r\ndata: one\n\n\r\n1000\r\ndata: {"ch',
        );
      } else if (req.url === '/not-http') {
        req.socket.end('SSH-2.0-definitely-not-http\r\n\r\n');
      } else if (req.url === '/huge-line') {
        sendHugeLine(res);
      } else {
        res.writeHead(204).end();
      }
    });
  });
  afterAll(() => stopLocal(local));

  it('posts the body with its headers and reads a whole answer with its status and headers', async () => {
    const answer = await poolFor(local).post(call(undefined, '/echo'));
    expect(answer.status).toBe(201);
    expect(answer.headers['retry-after']).toBe('3');
    expect(JSON.parse(answer.body.toString())).toEqual({
      method: 'POST',
      body: '{"x":"é"}',
      auth: 'Bearer k',
    });
  });

  it('streams events as they arrive and ends at the terminator', async () => {
    const answer = await poolFor(local).postStream(call(undefined, '/sse'), lines);
    const events = answer.events!;
    expect((await events.next()).value).toBe('one');
    releaseSecond();
    const rest: string[] = [];
    for await (const e of events) rest.push(e);
    expect(rest).toEqual(['two']);
  });

  it('reads a non-2xx answer to a stream request whole (it carries the error)', async () => {
    const answer = await poolFor(local).postStream(call(undefined, '/sse-error'), lines);
    expect(answer.events).toBeUndefined();
    expect(answer.status).toBe(429);
    expect(answer.body!.toString()).toContain('slow down');
  });

  it('an already-aborted signal fails at once and sends nothing', async () => {
    const before = local.opened;
    const err = await poolFor(local)
      .post(call(AbortSignal.abort(), '/echo'))
      .catch((e) => e);
    expect(err).toBeInstanceOf(CallAbortedError);
    expect(local.opened).toBe(before);
  });

  it('aborting before the answer fails the call and closes its connection', async () => {
    const controller = new AbortController();
    const pending = poolFor(local).post(call(controller.signal, '/hang'));
    const before = local.requests.length;
    await waitFor(() => local.requests.length > before);
    controller.abort();
    expect(await pending.catch((e) => e)).toBeInstanceOf(CallAbortedError);
    expect(await waitFor(() => lastCut(local))).toBe(true);
  });

  it('no answer within the timeout fails the call as a timeout', async () => {
    const err = await poolFor(local)
      .post(call(undefined, '/hang', 50))
      .catch((e) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
  });

  it('aborting mid-stream fails the stream and closes the upstream connection', async () => {
    const controller = new AbortController();
    const answer = await poolFor(local).postStream(call(controller.signal, '/slow-sse'), lines);
    const events = answer.events!;
    expect((await events.next()).value).toBe('first');
    controller.abort();
    const err = await (async () => {
      for await (const _ of events);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(CallAbortedError);
    expect(await waitFor(() => lastCut(local))).toBe(true);
  });

  it('a consumer that stops reading a stream closes the upstream connection', async () => {
    const answer = await poolFor(local).postStream(call(undefined, '/slow-sse'), lines);
    for await (const e of answer.events!) if (e === 'more') break;
    expect(await waitFor(() => lastCut(local))).toBe(true);
  });

  it('aborting while a whole answer stalls fails the call', async () => {
    const controller = new AbortController();
    const pending = poolFor(local).post(call(controller.signal, '/stall-json'));
    setTimeout(() => controller.abort(), 20);
    expect(await pending.catch((e) => e)).toBeInstanceOf(CallAbortedError);
  });

  it.each([
    ['a whole answer reset mid-body', '/reset-json', false],
    ['a chunked stream cut inside a chunk', '/truncated-chunked', true],
    ['bytes that are not HTTP', '/not-http', false],
  ])('%s fails as a transport failure', async (_name, path, stream) => {
    const pool = poolFor(local);
    const err = await (stream
      ? pool.postStream(call(undefined, path), lines).then(collect)
      : pool.post(call(undefined, path))
    ).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
  });

  it('an event line longer than any provider sends fails the stream rather than filling memory', async () => {
    const answer = await poolFor(local).postStream(call(undefined, '/huge-line'), lines);
    const err = await collect(answer).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.message).toMatch(/event line longer/);
  });

  it('a refused connection is a transport failure carrying the socket code', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const pool = new UpstreamPool(`http://127.0.0.1:${port}`);
    pools.push(pool);
    const err = await pool.post(call()).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.cause.code).toBe('ECONNREFUSED');
  });

  it('a reader that throws fails the stream with its error', async () => {
    const picky: SseReader<string> = {
      event(data) {
        throw new SyntaxError(`cannot read ${data}`);
      },
    };
    const answer = await poolFor(local).postStream(call(undefined, '/slow-sse'), picky);
    const err = await (async () => {
      for await (const _ of answer.events!);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(SyntaxError);
    expect(await waitFor(() => lastCut(local))).toBe(true);
  });

  it('after close, calls fail as transport failures instead of hanging', async () => {
    const pool = new UpstreamPool(local.url);
    expect((await pool.post(call(undefined, '/echo'))).status).toBe(201);
    await pool.close();
    expect(await pool.post(call(undefined, '/echo')).catch((e) => e)).toBeInstanceOf(TransportError);
  });
});

describe('UpstreamPool: connections', () => {
  it('reuses kept-alive connections: calls one after another do not open one each', async () => {
    const local = await startLocal((_req, res) => res.end('{}'));
    try {
      const pool = poolFor(local);
      // undici frees a connection a tick after its answer, so a call made at once may open a second one.
      for (let i = 0; i < 10; i++) expect((await pool.post(call())).status).toBe(200);
      expect(local.opened).toBeLessThanOrEqual(2);
      const opened = local.opened;
      await Promise.all([1, 2, 3].map(() => pool.post(call())));
      for (let i = 0; i < 10; i++) await pool.post(call());
      expect(local.opened).toBeLessThanOrEqual(opened + 3);
      expect(new Set(local.requests.map((r) => r.socket)).size).toBe(local.opened);
    } finally {
      await stopLocal(local);
    }
  });

  it('a connection whose call was abandoned mid-body is closed; later calls are served', async () => {
    const local = await startLocal((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
      } else res.end('{}');
    });
    try {
      const pool = poolFor(local);
      const controller = new AbortController();
      const answer = await pool.postStream(call(controller.signal, '/stream'), lines);
      expect((await answer.events!.next()).value).toBe('first');
      const streamed = local.requests[0]!.socket;
      expect(local.closed.has(streamed)).toBe(false);
      controller.abort();
      expect(await waitFor(() => local.closed.has(streamed))).toBe(true);
      expect(local.requests[0]!.cut).toBe(true);
      expect((await pool.post(call())).status).toBe(200);
      expect(local.requests[1]!.socket).not.toBe(streamed);
    } finally {
      await stopLocal(local);
    }
  });

  it('the end of an answer trailing its terminator keeps the connection; an end that never comes closes it', async () => {
    const local = await startLocal((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: a\n\ndata: [DONE]\n\n');
      // The chunked body's end comes a little later, or (/never) not at all.
      if (req.url !== '/never') setTimeout(() => res.end(), 30);
    });
    try {
      const pool = poolFor(local);
      expect(await pool.postStream(call(undefined, '/late'), lines).then(collect)).toEqual(['a']);
      // The stream was read to its terminator; its end then arrives on the connection, which stays open.
      expect(await waitFor(() => local.requests[0]!.finished)).toBe(true);
      expect(local.requests[0]!.cut).toBe(false);
      await new Promise((r) => setTimeout(r, 20));
      expect(local.closed.has(local.requests[0]!.socket)).toBe(false);

      expect(await pool.postStream(call(undefined, '/never'), lines).then(collect)).toEqual(['a']);
      const stuck = local.requests.at(-1)!.socket;
      // Waits for the client's grace after the terminator (about a second), not for any particular time.
      expect(await waitFor(() => local.closed.has(stuck))).toBe(true);
    } finally {
      await stopLocal(local);
    }
  });

  it('closes an idle connection itself, before a server that keeps it longer would', async () => {
    let closedByPeer = false;
    const local = await startLocal((_req, res) => res.end('{}'));
    // The server would keep the connection for a minute: only the client can be the one closing it.
    local.server.keepAliveTimeout = 60_000;
    local.server.on('connection', (socket) =>
      socket.on('end', () => {
        closedByPeer = true;
      }),
    );
    try {
      const pool = poolFor(local);
      expect((await pool.post(call())).status).toBe(200);
      const used = local.requests[0]!.socket;
      expect(local.closed.has(used)).toBe(false);
      // Waits for the client's idle bound (a few seconds), not for any particular time.
      for (let i = 0; i < 100 && !local.closed.has(used); i++) await new Promise((r) => setTimeout(r, 100));
      expect(local.closed.has(used)).toBe(true);
      expect(closedByPeer).toBe(true);
      expect((await pool.post(call())).status).toBe(200);
    } finally {
      await stopLocal(local);
    }
  });
});

describe('UpstreamPool: memory across answers', () => {
  it('refuses the answer that would take all answers being read past the shared bound; the others arrive', async () => {
    const MIB = 1024 * 1024;
    const size = 200 * MIB;
    const piece = Buffer.alloc(MIB, 0x20);
    // Every answer holds back its last MiB until all three have sent the rest (or were cut off).
    let held = 0;
    let release: () => void = () => {};
    const allHeld = new Promise<void>((r) => {
      release = r;
    });
    const hold = () => {
      if (++held === 3) release();
      return allHeld;
    };
    const local = await startLocal(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(size) });
      let sent = 0;
      let waited = false;
      while (sent < size && !res.destroyed) {
        if (!waited && sent === size - MIB) {
          waited = true;
          await hold();
          continue;
        }
        sent += MIB;
        if (!res.write(piece)) await new Promise((r) => res.once('drain', r).once('close', r));
      }
      if (!waited) void hold();
      res.end();
    });
    try {
      const pool = poolFor(local);
      // Three 200 MiB answers at once: 600 MiB, past the 512 MiB all answers may hold together.
      const results = await Promise.allSettled(
        [1, 2, 3].map(async () => (await pool.post(call())).body.length),
      );
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      const arrived = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<number>[];
      expect(MAX_BUFFERED_BYTES).toBeLessThan(3 * size);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const r of refused) {
        expect(r.reason).toBeInstanceOf(TransportError);
        expect(r.reason.message).toMatch(/answers being read at once/);
      }
      expect(arrived.length).toBeGreaterThanOrEqual(1);
      for (const r of arrived) expect(r.value).toBe(size);
      // The bound is released as answers end: one more answer arrives whole afterwards.
      expect((await pool.post(call())).body.length).toBe(size);
    } finally {
      await stopLocal(local);
    }
  });
});
