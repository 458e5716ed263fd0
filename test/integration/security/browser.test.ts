/**
 * A web page the operator visits must not be able to drive an open gateway (no keys: the quick start):
 * no cross-site "simple" POST (text/plain, forms, untyped blobs), no foreign origin unless configured,
 * no DNS rebinding (a foreign host name in `Host`). Real server, real fake upstream; requests are made
 * with node:http so `Host` and `Origin` can be set as a browser would send them.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Fakes, fakesConfig, startFakes, startGateway, type TestGateway } from '../helpers/gateway.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

/** One request, exactly as given (node:http lets `Host` and `Origin` be set). */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => {
        let json: any = null;
        try {
          json = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode!, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const CHAT = JSON.stringify({ model: 'oa-model', messages: [{ role: 'user', content: 'hi' }] });
const port = (gw: TestGateway) => new URL(gw.url).port;

let fakes: Fakes;
let gw: TestGateway | undefined;

beforeAll(async () => {
  fakes = await startFakes();
});
afterAll(async () => {
  await fakes.close();
});
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  fakes.openai.reset();
});

describe('open gateway: bodies must be declared as JSON', () => {
  it.each([
    ['text/plain', 'text/plain;charset=UTF-8'],
    ['form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('a %s POST is refused with 415 and reaches no upstream', async (_label, type) => {
    gw = await startGateway(fakesConfig(fakes));
    const res = await send(gw.url, 'POST', '/v1/chat/completions', { 'content-type': type }, CHAT);
    expect(res.status).toBe(415);
    expect(res.json.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'unsupported_media_type',
      param: null,
    });
    expect(res.json.error.message).toContain('Content-Type: application/json');
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('a fetch of an untyped Blob (no content type, a body) is refused', async () => {
    gw = await startGateway(fakesConfig(fakes));
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: new Blob([CHAT]) });
    expect(res.status).toBe(415);
    expect(((await res.json()) as any).error.code).toBe('unsupported_media_type');
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('application/json and application/*+json bodies are served', async () => {
    gw = await startGateway(fakesConfig(fakes));
    for (const type of ['application/json; charset=utf-8', 'application/vnd.api+json']) {
      const res = await send(gw.url, 'POST', '/v1/chat/completions', { 'content-type': type }, CHAT);
      expect(res.status).toBe(200);
    }
  });
});

describe('open gateway: cross-origin requests', () => {
  const json = { 'content-type': 'application/json' };

  it('a foreign Origin is refused with 403 and nothing is done', async () => {
    gw = await startGateway(fakesConfig(fakes));
    const res = await send(
      gw.url,
      'POST',
      '/v1/chat/completions',
      { ...json, origin: 'http://evil.example' },
      CHAT,
    );
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ type: 'permission_error', code: 'origin_not_allowed' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(fakes.openai.received).toHaveLength(0);
    const preflight = await send(gw.url, 'OPTIONS', '/v1/chat/completions', {
      origin: 'http://evil.example',
      'access-control-request-method': 'POST',
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('the gateway’s own origin (its dashboard) is served', async () => {
    gw = await startGateway(fakesConfig(fakes));
    const res = await send(gw.url, 'POST', '/v1/chat/completions', { ...json, origin: gw.url }, CHAT);
    expect(res.status).toBe(200);
  });

  it('a configured origin gets a preflight answer and a readable response', async () => {
    gw = await startGateway(fakesConfig(fakes, { server: { cors: { origins: ['https://app.example'] } } }));
    const preflight = await send(gw.url, 'OPTIONS', '/v1/chat/completions', {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('content-type');
    expect(fakes.openai.received).toHaveLength(0);

    const res = await send(
      gw.url,
      'POST',
      '/v1/chat/completions',
      { ...json, origin: 'https://app.example' },
      CHAT,
    );
    expect(res.status).toBe(200);
    expect(res.json.model).toBe('oa-model');
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(res.headers['access-control-expose-headers']).toContain('x-quorum-cost-usd');
    expect(res.headers.vary).toContain('Origin');
    // The answer's own headers are all there beside CORS's.
    expect(res.headers['x-quorum-request-id']).toBe(res.json.quorum.request_id);
    expect(res.headers['x-quorum-model']).toBe('oa-model');
    expect(res.headers['x-quorum-overhead-ms']).toMatch(/^\d+(\.\d+)?$/);
    expect(Number(res.headers['x-quorum-cost-usd'])).toBe(res.json.quorum.cost_usd);
    // Other origins stay out.
    const other = await send(gw.url, 'GET', '/v1/models', { origin: 'https://other.example' });
    expect(other.status).toBe(403);
  });

  it('`*` lets any origin in', async () => {
    gw = await startGateway(fakesConfig(fakes, { server: { cors: { origins: ['*'] } } }));
    const res = await send(gw.url, 'GET', '/v1/models', { origin: 'https://anywhere.example' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('open gateway: the Host header (DNS rebinding)', () => {
  it('a foreign host name is refused with 403, loopback names are served', async () => {
    gw = await startGateway(fakesConfig(fakes));
    const evil = await send(gw.url, 'GET', '/v1/models', { host: `evil.example:${port(gw)}` });
    expect(evil.status).toBe(403);
    expect(evil.json.error).toMatchObject({ type: 'permission_error', code: 'host_not_allowed' });
    expect(evil.json.error.message).toContain('server.allowed_hosts');
    const evilChat = await send(
      gw.url,
      'POST',
      '/v1/chat/completions',
      { host: 'evil.example', 'content-type': 'application/json' },
      CHAT,
    );
    expect(evilChat.status).toBe(403);
    expect(fakes.openai.received).toHaveLength(0);

    for (const host of [
      `localhost:${port(gw)}`,
      `127.0.0.1:${port(gw)}`,
      `[::1]:${port(gw)}`,
      'app.localhost',
    ]) {
      expect((await send(gw.url, 'GET', '/v1/models', { host })).status, host).toBe(200);
    }
  });

  it('the probes answer whatever the host name (load balancers)', async () => {
    gw = await startGateway(fakesConfig(fakes));
    expect((await send(gw.url, 'GET', '/healthz', { host: 'lb.internal' })).status).toBe(200);
    expect((await send(gw.url, 'GET', '/readyz', { host: 'lb.internal' })).status).toBe(200);
  });

  it('a host in server.allowed_hosts is served', async () => {
    gw = await startGateway(fakesConfig(fakes, { server: { allowed_hosts: ['gateway.lan'] } }));
    expect((await send(gw.url, 'GET', '/v1/models', { host: `gateway.lan:${port(gw)}` })).status).toBe(200);
    expect((await send(gw.url, 'GET', '/v1/models', { host: 'other.lan' })).status).toBe(403);
  });

  it('with keys configured any host name works (the key protects it)', async () => {
    gw = await startGateway(
      fakesConfig(fakes, { keys: [{ key: 'sk-browser-test-key', team: 't' }], teams: [{ id: 't' }] }),
    );
    const res = await send(gw.url, 'GET', '/v1/models', {
      host: 'gateway.example.com',
      authorization: 'Bearer sk-browser-test-key',
    });
    expect(res.status).toBe(200);
  });
});

/** One request written byte for byte (node:http's client would not send a header twice): its status and JSON. */
function sendRaw(url: string, head: string[], body = ''): Promise<{ status: number; json: any }> {
  const { hostname, port: p } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(p) }, () => {
      socket.write(
        `${[...head, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'].join('\r\n')}\r\n\r\n${body}`,
      );
    });
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
    });
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
      let json: any = null;
      try {
        json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      } catch {}
      resolve({ status, json });
    });
  });
}

// node:http keeps only the first of a repeated Host or Authorization; the gateway reads what fetch's
// Headers would (every value, joined), so a harmless first value cannot smuggle in a second.
describe('repeated headers', () => {
  it('open gateway: a loopback Host followed by a foreign one is refused as DNS rebinding', async () => {
    gw = await startGateway(fakesConfig(fakes));
    const res = await sendRaw(
      gw.url,
      [
        'POST /v1/chat/completions HTTP/1.1',
        `Host: localhost:${port(gw)}`,
        'Host: evil.example',
        'Content-Type: application/json',
      ],
      CHAT,
    );
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'host_not_allowed' });
    expect(fakes.openai.received).toHaveLength(0);
  });

  it('with keys: a valid key followed by a second Authorization is not a valid key', async () => {
    gw = await startGateway(
      fakesConfig(fakes, { keys: [{ key: 'sk-browser-test-key', team: 't' }], teams: [{ id: 't' }] }),
    );
    const head = (auth: string[]) => [
      'POST /v1/chat/completions HTTP/1.1',
      `Host: localhost:${port(gw!)}`,
      ...auth,
      'Content-Type: application/json',
    ];
    const twice = await sendRaw(
      gw.url,
      head(['Authorization: Bearer sk-browser-test-key', 'Authorization: Bearer other']),
      CHAT,
    );
    expect(twice.status).toBe(401);
    expect(fakes.openai.received).toHaveLength(0);
    // the same request with the key once is served
    expect((await sendRaw(gw.url, head(['Authorization: Bearer sk-browser-test-key']), CHAT)).status).toBe(
      200,
    );
  });
});
