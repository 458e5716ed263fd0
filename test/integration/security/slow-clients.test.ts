/**
 * Slow clients against the real `quorum serve`, over raw sockets: a connection that trickles its
 * headers or its body is cut off once the configured bound passes (`server.headers_timeout_ms`,
 * `server.body_timeout_ms`), while everyone else is served meanwhile.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe } from '../helpers/serve.ts';

let server: ServeProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quorum-slow-'));
  writeFileSync(
    join(dir, 'quorum.yaml'),
    [
      'server: { headers_timeout_ms: 300, body_timeout_ms: 600, keep_alive_timeout_ms: 300 }',
      'providers: [{ id: demo, type: demo }]',
      'models: [{ id: demo-smart, provider: demo }]',
    ].join('\n'),
  );
  server = await spawnServe(['--config', join(dir, 'quorum.yaml')], {
    cwd: dir,
    env: { PATH: process.env.PATH, QUORUM_DATABASE_URL: `sqlite:${join(dir, 'q.db')}` },
  });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface RawClient {
  socket: Socket;
  /** Resolves with everything the server sent once it closed the connection. */
  closed: Promise<string>;
}

function rawClient(): Promise<RawClient> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      let received = '';
      socket.on('data', (d) => {
        received += d.toString();
      });
      const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** Keeps writing a byte now and then, as a slow client would, until the server hangs up. */
function trickle(socket: Socket, byte: string): void {
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(byte);
  }, 50);
  socket.once('close', () => clearInterval(timer));
}

async function chat(): Promise<number> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo-smart', messages: [{ role: 'user', content: 'hello' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('slow clients are cut off at the configured bounds', () => {
  it('a client that sends half its headers and then dribbles is disconnected; others are served', async () => {
    const slow = await rawClient();
    slow.socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n`,
    );
    trickle(slow.socket, 'x');
    // Served while the slow one holds its connection.
    expect(await chat()).toBe(200);
    const answer = await slow.closed;
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('a client that sends its headers and trickles the body is disconnected; others are served', async () => {
    const slow = await rawClient();
    slow.socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"model":',
    );
    trickle(slow.socket, ' ');
    expect(await chat()).toBe(200);
    const answer = await slow.closed;
    expect(answer === '' || /^HTTP\/1\.1 (408|400)/.test(answer)).toBe(true);
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
