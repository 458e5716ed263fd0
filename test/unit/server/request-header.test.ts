import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHeader } from '../../../src/server/request-header.ts';

const NAMES = [
  'host',
  'authorization',
  'x-api-key',
  'origin',
  'content-type',
  'content-length',
  'transfer-encoding',
  'x-custom',
  'cookie',
  'absent',
] as const;

let server: ServerType;
let port: number;

beforeAll(async () => {
  const app = new Hono();
  // Each name as requestHeader reads it and as Hono does; the body is drained first.
  app.all('*', async (c) => {
    await c.req.text();
    // JSON has no undefined: an absent header is sent back as the string '(absent)'
    const show = (v: string | undefined) => (v === undefined ? '(absent)' : v);
    const out: Record<string, [string, string]> = {};
    for (const name of NAMES) out[name] = [show(requestHeader(c, name)), show(c.req.header(name))];
    return c.json(out);
  });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => server.once('listening', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

/** Sends `head` (lines without the final blank line) as written, returns the parsed JSON answer. */
function raw(head: string[], body = ''): Promise<Record<string, [unknown, unknown]>> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`${[...head, 'Connection: close'].join('\r\n')}\r\n\r\n${body}`);
    });
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const answer = text.slice(text.indexOf('\r\n\r\n') + 4);
      try {
        resolve(JSON.parse(answer));
      } catch {
        reject(new Error(`not JSON: ${text}`));
      }
    });
  });
}

function expectSame(answer: Record<string, [unknown, unknown]>) {
  for (const name of NAMES) expect(answer[name]![0], name).toBe(answer[name]![1]);
}

describe('requestHeader', () => {
  it('reads what Hono reads for an ordinary request, absent headers included', async () => {
    const body = '{"a":1}';
    const answer = await raw(
      [
        'POST /v1/chat/completions HTTP/1.1',
        'Host: localhost:8080',
        'Authorization: Bearer qk-1',
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        'Origin: http://localhost:8080',
      ],
      body,
    );
    expectSame(answer);
    expect(answer.authorization![0]).toBe('Bearer qk-1');
    expect(answer.absent![0]).toBe('(absent)');
  });

  it('trims values as Hono does, whatever the case of the names', async () => {
    const answer = await raw(['GET / HTTP/1.1', 'HOST: a', 'x-API-key:   k1 \t ', 'X-Custom:  v  ']);
    expectSame(answer);
    expect(answer['x-api-key']![0]).toBe('k1');
  });

  it('joins repeated headers as Hono does, where node:http would keep only the first', async () => {
    const answer = await raw([
      'GET / HTTP/1.1',
      'Host: a',
      'Authorization: Bearer first',
      'Authorization: Bearer second',
      'X-Custom: 1',
      'X-Custom: 2',
      'Cookie: a=1',
      'Cookie: b=2',
      'Content-Type: text/plain',
      'Content-Type: application/json',
    ]);
    expectSame(answer);
    expect(answer.authorization![0]).toBe('Bearer first, Bearer second');
    expect(answer['x-custom']![0]).toBe('1, 2');
  });

  it('reads a chunked body request and an HTTP/1.0 one as Hono does', async () => {
    const chunked = await raw(
      ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Type: application/json'],
      '7\r\n{"a":1}\r\n0\r\n\r\n',
    );
    expectSame(chunked);
    expect(chunked['transfer-encoding']![0]).toBe('chunked');
    expectSame(await raw(['GET / HTTP/1.0', 'Host: a', 'X-Api-Key: k']));
  });
});
