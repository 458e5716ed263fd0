/**
 * The dashboard at /ui: static files from src/ui (plain ES modules, CSS, SVG; no build step), read once
 * at start-up and served from memory. Only files of the listed types exist; nothing else under the
 * folder can be reached, and no path is ever joined from the request. The page calls the same API as
 * everyone else with the key its user signed in with, so the files themselves hold nothing secret and
 * are served without a key.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { GatewayError } from '../../errors/index.ts';
import type { AppEnv } from '../env.ts';

/** src/ui from src/server/routes (dist/src/ui once built: the build copies it there). */
export const UI_ROOT = resolve(import.meta.dirname, '../../ui');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Scripts and styles only from this gateway, no inline script or style element, no frames, no form
 * posts anywhere (a sign-in form that failed to load its script cannot put the key in a URL), and
 * `fetch` only to this origin.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Revalidated on every load (a 304 when unchanged), so an upgraded gateway serves its own pages.
  'cache-control': 'no-cache',
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Every servable file under `root`, by its URL path below /ui/. */
export function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(root)) return assets;
  for (const path of walk(root)) {
    const type = TYPES[extname(path)];
    if (!type) continue;
    const body = new Uint8Array(readFileSync(path));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(relative(root, path).split(sep).join('/'), { body, type, etag });
  }
  return assets;
}

function serve(c: Context<AppEnv>, asset: Asset | undefined): Response {
  if (!asset) {
    throw new GatewayError('not_found', `No dashboard file ${c.req.path}. Open /ui/ for the dashboard.`);
  }
  const headers = new Headers({ ...HEADERS, 'content-type': asset.type, etag: asset.etag });
  const tags = c.req.header('if-none-match');
  if (tags?.split(',').some((t) => t.trim() === asset.etag || t.trim() === '*')) {
    return new Response(null, { status: 304, headers });
  }
  headers.set('content-length', String(asset.body.byteLength));
  return new Response(asset.body, { status: 200, headers });
}

export function registerUi(app: OpenAPIHono<AppEnv>, root = UI_ROOT) {
  const assets = loadAssets(root);
  // Relative, so the page also works behind a proxy that serves the gateway under a path prefix.
  app.get('/ui', (c) => c.body(null, 308, { location: 'ui/', 'cache-control': 'no-cache' }));
  app.get('/ui/', (c) => serve(c, assets.get('index.html')));
  app.get('/ui/*', (c) => serve(c, assets.get(c.req.path.slice('/ui/'.length))));
}
