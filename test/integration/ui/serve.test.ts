/**
 * The dashboard's files as the gateway serves them at /ui: the right types, revalidation with ETags, a
 * strict Content-Security-Policy on every page, nothing reachable outside the listed files, nothing
 * fetched from another origin, and the browser guards (Host, Origin) applying to /ui as to the API.
 * And GET /v1/whoami, which the sign-in asks: role and team, never the key.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_CSP, UI_ROOT } from '../../../src/server/routes/ui.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const MASTER = 'mk-ui-serve-master-key-0123456789';
const STATIC = 'sk-ui-serve-static-team-key-0123456789';

function send(url: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, any>; text: string }>((resolve, reject) => {
    const req = request(`${url}${path}`, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const dir = mkdtempSync(join(tmpdir(), 'quorum-ui-serve-'));
let store: Store;
let gw: TestGateway;
let open: TestGateway;

beforeAll(async () => {
  store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  gw = await startGateway(
    {
      providers: [{ id: 'demo', type: 'demo' }],
      teams: [{ id: 'lab' }],
      keys: [{ key: STATIC, team: 'lab', name: 'lab-ci' }],
    },
    { masterKey: MASTER, store },
  );
  open = await startGateway({ providers: [{ id: 'demo', type: 'demo' }] });
});
afterAll(async () => {
  await gw?.close();
  await open?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function files(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('GET /ui', () => {
  it('redirects /ui to /ui/ relatively (so a proxy path prefix is kept) and serves the page without a key', async () => {
    const bare = await send(gw.url, '/ui');
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('ui/');
    const page = await send(gw.url, '/ui/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<script type="module" src="js/main.js"></script>');
  });

  it('sends a strict CSP and the other browser headers with every file', async () => {
    for (const path of ['/ui/', '/ui/js/main.js', '/ui/app.css', '/ui/favicon.svg']) {
      const res = await send(gw.url, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-security-policy'], path).toBe(UI_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers.etag).toMatch(/^"[\w-]+"$/);
    }
    expect(UI_CSP).toContain("script-src 'self'");
    expect(UI_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(UI_CSP).toContain("form-action 'none'");
    expect(UI_CSP).toContain("frame-ancestors 'none'");
  });

  it('types each file by its extension', async () => {
    expect((await send(gw.url, '/ui/js/pages/run.js')).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await send(gw.url, '/ui/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await send(gw.url, '/ui/favicon.svg')).headers['content-type']).toBe('image/svg+xml');
  });

  it('answers 304 to a matching If-None-Match, and the full file to a stale one', async () => {
    const first = await send(gw.url, '/ui/js/api.js');
    const again = await send(gw.url, '/ui/js/api.js', { 'if-none-match': first.headers.etag });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers['content-security-policy']).toBe(UI_CSP);
    const stale = await send(gw.url, '/ui/js/api.js', { 'if-none-match': '"stale"' });
    expect(stale.status).toBe(200);
    expect(stale.text).toBe(first.text);
  });

  it('serves nothing outside the listed files: traversal, unknown files and other types are 404s in the error shape', async () => {
    for (const path of [
      '/ui/../package.json',
      '/ui/%2e%2e/%2e%2e/package.json',
      '/ui/..%2F..%2Fpackage.json',
      '/ui/js/nope.js',
      '/ui/README.md',
      '/ui/js',
    ]) {
      const res = await send(gw.url, path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.text).error.code, path).toBe('not_found');
    }
  });

  it('has no inline script or style and loads nothing from another origin', () => {
    const html = readFileSync(join(UI_ROOT, 'index.html'), 'utf8');
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    for (const file of files(UI_ROOT)) {
      const text = readFileSync(file, 'utf8');
      const urls = (text.match(/https?:\/\/[^\s'"`)]+/g) ?? []).filter(
        (u) => u !== 'http://www.w3.org/2000/svg',
      );
      expect(urls, file).toEqual([]);
      expect(text, file).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/,
      );
      expect(text, file).not.toMatch(/document\.cookie|localStorage/);
    }
  });

  it('keeps the browser guards: an open gateway refuses a foreign Host, and a foreign Origin is refused', async () => {
    const rebound = await send(open.url, '/ui/', { host: 'evil.example' });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.text).error.code).toBe('host_not_allowed');
    const foreign = await send(gw.url, '/ui/', { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.text).error.code).toBe('origin_not_allowed');
  });
});

describe('GET /v1/whoami', () => {
  const who = async (url: string, key?: string) => {
    const res = await fetch(`${url}/v1/whoami`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    return { status: res.status, text: await res.text() };
  };

  it('says master for the master key, with the admin API', async () => {
    const res = await who(gw.url, MASTER);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      object: 'whoami',
      role: 'master',
      team: '@master',
      key: null,
      admin: true,
    });
  });

  it("says team, the team and the key's name (never its value) for a static key and a stored one", async () => {
    const res = await who(gw.url, STATIC);
    expect(JSON.parse(res.text)).toEqual({
      object: 'whoami',
      role: 'team',
      team: 'lab',
      key: { id: null, name: 'lab-ci' },
      admin: false,
    });
    expect(res.text).not.toContain(STATIC);
    const made = await fetch(`${gw.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ team: 'lab', name: 'laptop' }),
    }).then((r) => r.json() as Promise<any>);
    const stored = await who(gw.url, made.key);
    expect(JSON.parse(stored.text)).toMatchObject({
      role: 'team',
      team: 'lab',
      key: { id: made.id, name: 'laptop' },
    });
    expect(stored.text).not.toContain(made.key);
  });

  it('is 401 without a key or with a wrong one, in the error shape', async () => {
    for (const key of [undefined, 'sk-wrong']) {
      const res = await who(gw.url, key);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text).error.code).toBe('invalid_api_key');
    }
  });

  it('says open on a gateway without keys', async () => {
    expect(JSON.parse((await who(open.url)).text)).toEqual({
      object: 'whoami',
      role: 'open',
      team: 'default',
      key: null,
      admin: false,
    });
  });

  it('is in /openapi.json', async () => {
    const doc: any = await fetch(`${gw.url}/openapi.json`).then((r) => r.json());
    expect(doc.paths['/v1/whoami'].get.summary).toMatch(/role and team/);
  });
});
