/**
 * The listener's drain on a real node:http server: connections the kernel had already queued when the
 * listener was to close are answered, not reset. A worker thread plays the clients, so they connect
 * while this thread is busy and cannot accept: it counts its completed connections in shared memory,
 * and this thread spins until all of them are queued.
 */
import { createServer, type Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { closeWhenDraining, drainListener } from '../../../src/boot/drain.ts';

/**
 * Opens `count` connections to `port`, each sending one GET once connected (counted in `connected`);
 * reports each answer's status line and Connection header, or the error.
 */
const CLIENTS = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const connected = new Int32Array(workerData.connected);
const results = [];
const report = (r) => { results.push(r); if (results.length === workerData.count) parentPort.postMessage(results); };
for (let i = 0; i < workerData.count; i++) {
  const socket = net.connect(workerData.port, '127.0.0.1', () => {
    Atomics.add(connected, 0, 1);
    socket.write('GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n');
  });
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d) => { text += d; });
  socket.on('error', (err) => report(err.code));
  socket.on('close', (hadError) => { if (!hadError) report(text.split('\\r\\n').filter((l) => /^HTTP|^connection:/i.test(l)).join(' / ').toLowerCase()); });
}
`;

describe('drainListener', () => {
  let server: Server | undefined;
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
    server?.closeAllConnections();
  });

  it('answers the connections already queued when the listener closes, with Connection: close', async () => {
    let draining = false;
    server = createServer((_req, res) => res.end('ok'));
    closeWhenDraining(server, () => draining);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };

    const count = 5;
    const connected = new SharedArrayBuffer(4);
    const counter = new Int32Array(connected);
    worker = new Worker(CLIENTS, { eval: true, workerData: { port, count, connected } });
    const answers = new Promise<string[]>((resolve) => worker!.once('message', resolve));
    // This thread stays busy while the clients connect: the kernel completes and queues the connections.
    const giveUpAt = Date.now() + 10_000;
    while (Atomics.load(counter, 0) < count && Date.now() < giveUpAt) {}
    expect(Atomics.load(counter, 0)).toBe(count);
    draining = true;
    await drainListener(server, { delayMs: 0, timeoutMs: 5_000 });

    expect(await answers).toEqual(Array(count).fill('http/1.1 200 ok / connection: close'));
  });

  it('closes the listener when nothing is queued', async () => {
    server = createServer((_req, res) => res.end('ok'));
    closeWhenDraining(server, () => true);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await drainListener(server, { delayMs: 0, timeoutMs: 5_000 });
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });
});
