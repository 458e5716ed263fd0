/** The provider SDKs' fetch: what they rely on must behave like the WHATWG fetch it replaces. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BUFFERED_BYTES, nodeFetch } from '../../../../src/providers/http/node-fetch.ts';
import { sendHugeLine } from './huge-line.ts';

let server: Server;
let url: string;
let lastClosedEarly = false;
/** Lets /sse send its second event: the test opens it only once it has read the first. */
let releaseSecond: () => void = () => {};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    if (req.url === '/echo') {
      res.writeHead(201, {
        'content-type': 'application/json',
        'x-seen-auth': req.headers.authorization ?? '',
      });
      res.end(JSON.stringify({ method: req.method, body, length: req.headers['content-length'] }));
    } else if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      // The second event only once the reader has seen the first: a body buffered to the end would hang.
      new Promise<void>((r) => {
        releaseSecond = r;
      }).then(() => res.end('data: two\n\n'));
    } else if (req.url === '/slow-sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      const timer = setInterval(() => res.write('data: more\n\n'), 20);
      res.on('close', () => {
        clearInterval(timer);
        lastClosedEarly = !res.writableFinished;
      });
    } else if (req.url === '/hang') {
      // never answers
    } else if (req.url === '/tail-then-end') {
      // The last event and the end arrive while the reader is deciding to give up on the body.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices": [ broken\n\n');
      setImmediate(() => res.end('data: [DONE]\n\n'));
    } else if (req.url === '/truncated-chunked') {
      req.socket.end(
        'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
          'b\r\ndata: one\n\n\r\n1000\r\ndata: {"ch',
      );
    } else if (req.url === '/reset-json') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"choices": [', () => req.socket.resetAndDestroy());
    } else if (req.url === '/stall-json') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"choices": [');
    } else if (req.url === '/huge-line') {
      sendHugeLine(res);
    } else {
      res.writeHead(204).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('nodeFetch', () => {
  it('sends method, headers and a string body with its length, and returns status, headers and JSON', async () => {
    const res = await nodeFetch(`${url}/echo`, {
      method: 'POST',
      headers: new Headers({ Authorization: 'Bearer k', 'content-type': 'application/json' }),
      body: '{"héllo":1}',
    });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-seen-auth')).toBe('Bearer k');
    expect(await res.json()).toEqual({
      method: 'POST',
      body: '{"héllo":1}',
      length: String(Buffer.byteLength('{"héllo":1}')),
    });
  });

  it('answers 204 with an empty body', async () => {
    const res = await nodeFetch(`${url}/nothing`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('streams an event-stream body as it arrives', async () => {
    const res = await nodeFetch(`${url}/sse`);
    const reader = res.body!.getReader();
    // The server sends the second event (and ends) only after this read returns.
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n');
    releaseSecond();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('data: two\n\n');
  });

  it('rejects with an AbortError when the signal aborts before the answer, and closes the connection', async () => {
    const controller = new AbortController();
    const pending = nodeFetch(`${url}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects at once for an already-aborted signal', async () => {
    await expect(nodeFetch(`${url}/echo`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('aborting mid-stream errors the body and closes the upstream connection', async () => {
    const controller = new AbortController();
    const res = await nodeFetch(`${url}/slow-sse`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended';
      })(),
    ).rejects.toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(lastClosedEarly).toBe(true);
  });

  it('cancelling the body closes the upstream connection', async () => {
    lastClosedEarly = false;
    const res = await nodeFetch(`${url}/slow-sse`);
    await res.body!.cancel();
    await new Promise((r) => setTimeout(r, 50));
    expect(lastClosedEarly).toBe(true);
  });

  it('a reader that gives up on a body whose end is already on its way throws nothing outside the call', async () => {
    const escaped: unknown[] = [];
    const record = (err: unknown) => escaped.push(err);
    process.on('uncaughtException', record);
    try {
      for (const giveUp of ['cancel', 'abort'] as const) {
        for (let i = 0; i < 5; i++) {
          const controller = new AbortController();
          const res = await nodeFetch(`${url}/tail-then-end`, { signal: controller.signal });
          const reader = res.body!.getReader();
          await reader.read();
          if (giveUp === 'cancel') await reader.cancel();
          else controller.abort();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    } finally {
      process.off('uncaughtException', record);
    }
    expect(escaped).toEqual([]);
  });

  it('a chunked body cut inside a chunk errors the stream instead of ending it quietly', async () => {
    const res = await nodeFetch(`${url}/truncated-chunked`);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended';
      })(),
    ).rejects.toThrow('terminated');
  });

  it('an event line longer than any provider sends errors the stream rather than filling memory', async () => {
    const res = await nodeFetch(`${url}/huge-line`);
    const reader = res.body!.getReader();
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended';
      })(),
    ).rejects.toThrow('terminated');
  });

  it('a JSON answer reset mid-body rejects like the global fetch', async () => {
    const err = await nodeFetch(`${url}/reset-json`).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('fetch failed');
  });

  it('aborting while a JSON body stalls rejects with an AbortError', async () => {
    const controller = new AbortController();
    const pending = nodeFetch(`${url}/stall-json`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports a refused connection as TypeError("fetch failed") like the global fetch', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await nodeFetch(`http://127.0.0.1:${port}/`).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('fetch failed');
    expect(err.cause.code).toBe('ECONNREFUSED');
  });
});

describe('nodeFetch keep-alive connections', () => {
  it('closes an idle connection itself, before a server that keeps it longer would', async () => {
    let open = 0;
    let closedByPeer = false;
    const idle = createServer((_req, res) => res.end('{}'));
    // The server would keep the connection for a minute: only the client can be the one closing it.
    idle.keepAliveTimeout = 60_000;
    idle.on('connection', (socket) => {
      open++;
      socket.on('end', () => {
        closedByPeer = true;
      });
      socket.on('close', () => open--);
    });
    await new Promise<void>((r) => idle.listen(0, '127.0.0.1', r));
    try {
      const target = `http://127.0.0.1:${(idle.address() as AddressInfo).port}/`;
      expect((await nodeFetch(target, { method: 'POST', body: '{}' })).status).toBe(200);
      expect(open).toBe(1);
      // Waits for the client's idle bound (a few seconds), not for any particular time.
      for (let i = 0; i < 100 && open > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(open).toBe(0);
      expect(closedByPeer).toBe(true);
      // A later request opens a fresh connection and is served.
      expect((await nodeFetch(target, { method: 'POST', body: '{}' })).status).toBe(200);
    } finally {
      idle.closeAllConnections();
      await new Promise((r) => idle.close(r));
    }
  });
});

describe('nodeFetch memory across answers', () => {
  it('refuses the answer that would take all answers being read past the shared bound; the others arrive', async () => {
    const MIB = 1024 * 1024;
    const size = 200 * MIB;
    const piece = Buffer.alloc(MIB, 0x20);
    // Every answer holds back its last MiB until all three have sent the rest (or were cut off): the
    // three are then in flight together, whatever the machine's load.
    let held = 0;
    let release: () => void = () => {};
    const allHeld = new Promise<void>((r) => {
      release = r;
    });
    const hold = () => {
      if (++held === 3) release();
      return allHeld;
    };
    const big = createServer(async (_req, res) => {
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
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    try {
      const target = `http://127.0.0.1:${(big.address() as AddressInfo).port}/`;
      // Three 200 MiB answers at once: 600 MiB, past the 512 MiB all answers may hold together.
      const results = await Promise.allSettled(
        [1, 2, 3].map(
          async () =>
            (await (await nodeFetch(target, { method: 'POST', body: '{}' })).arrayBuffer()).byteLength,
        ),
      );
      const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      const arrived = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<number>[];
      expect(MAX_BUFFERED_BYTES).toBeLessThan(3 * size);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const r of refused) {
        expect(r.reason).toBeInstanceOf(TypeError);
        expect(String(r.reason.cause?.message)).toMatch(/answers being read at once/);
      }
      expect(arrived.length).toBeGreaterThanOrEqual(1);
      for (const r of arrived) expect(r.value).toBe(size);
      // The bound is released as answers end: one more answer arrives whole afterwards.
      const after = await nodeFetch(target, { method: 'POST', body: '{}' });
      expect((await after.arrayBuffer()).byteLength).toBe(size);
    } finally {
      big.closeAllConnections();
      await new Promise((r) => big.close(r));
    }
  });
});
