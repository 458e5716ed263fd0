/**
 * The real-browser harness, against a real `quorum serve` on the built-in demo. Shared by the browser
 * tests and `npm run screenshots`. Two browsers, Debian's packages (the browser projects' own downloads
 * cannot run here):
 *
 * - chromium, driven by `playwright-core`: QUORUM_CHROMIUM, else /usr/bin/chromium,
 *   /usr/bin/chromium-browser, /usr/bin/google-chrome. QUORUM_PLAYWRIGHT may name another copy's
 *   package directory (for a checkout whose node_modules predate it).
 * - firefox, Debian's `firefox-esr` driven over WebDriver BiDi by `puppeteer-core` (`firefox.ts`):
 *   QUORUM_FIREFOX, else /usr/bin/firefox-esr, /usr/bin/firefox.
 *
 * `.ci/run` installs both; outside CI a browser that is not found is skipped, saying why.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cleanEnv } from '../integration/helpers/docs-run.ts';
import { type ServeProcess, spawnServe } from '../integration/helpers/serve.ts';
import { launchFirefox } from './firefox.ts';
import type { Browser, BrowserContext, Page, Playwright } from './playwright.ts';

export type Engine = 'chromium' | 'firefox';
export const ENGINES: Engine[] = ['chromium', 'firefox'];

const CANDIDATES: Record<Engine, string[]> = {
  chromium: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'],
  firefox: ['/usr/bin/firefox-esr', '/usr/bin/firefox'],
};
const PATH_VARIABLE: Record<Engine, string> = { chromium: 'QUORUM_CHROMIUM', firefox: 'QUORUM_FIREFOX' };
const DEBIAN_PACKAGE: Record<Engine, string> = { chromium: 'chromium', firefox: 'firefox-esr' };

/** A fresh profile each launch, nothing phoning home, no GPU, no sandbox (containers have no user namespaces). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export function browserPath(engine: Engine): string | null {
  const named = process.env[PATH_VARIABLE[engine]];
  if (named) return existsSync(named) ? named : null;
  return CANDIDATES[engine].find((p) => existsSync(p)) ?? null;
}

/** The package name in a variable, as for playwright-core below. */
const PUPPETEER = 'puppeteer-core';

async function hasPuppeteer(): Promise<boolean> {
  try {
    await import(PUPPETEER);
    return true;
  } catch {
    return false;
  }
}

/** The package name in a variable: the suite type-checks before `npm ci` has installed it. */
const PLAYWRIGHT = 'playwright-core';

export async function loadPlaywright(): Promise<Playwright | null> {
  const dir = process.env.QUORUM_PLAYWRIGHT;
  try {
    if (dir) return createRequire(import.meta.url)(dir) as Playwright;
    return (await import(PLAYWRIGHT)) as Playwright;
  } catch {
    return null;
  }
}

/**
 * Why the browser tests cannot run here, or null when they can. In CI (`CI`, or
 * QUORUM_BROWSER_TESTS=required, which .ci/run sets) a missing browser or driver is a failure, not a
 * skip: the tests must run there.
 */
export async function unavailableReason(engine: Engine = 'chromium'): Promise<string | null> {
  const missing: string[] = [];
  if (!browserPath(engine)) {
    const variable = PATH_VARIABLE[engine];
    missing.push(
      `no ${engine} found (looked at ${process.env[variable] ?? CANDIDATES[engine].join(', ')}; apt-get install ${DEBIAN_PACKAGE[engine]}, or set ${variable})`,
    );
  }
  if (engine === 'chromium' && !(await loadPlaywright()))
    missing.push('playwright-core is not installed (npm ci)');
  if (engine === 'firefox' && !(await hasPuppeteer()))
    missing.push('puppeteer-core is not installed (npm ci)');
  if (missing.length === 0) return null;
  if (process.env.CI || process.env.QUORUM_BROWSER_TESTS === 'required') {
    throw new Error(
      `the ${engine} browser tests must run here but cannot: ${missing.join('; ')} (.ci/run installs chromium and firefox-esr)`,
    );
  }
  return `${engine} browser tests skipped: ${missing.join('; ')}`;
}

export async function launchBrowser(engine: Engine = 'chromium'): Promise<Browser> {
  const executablePath = browserPath(engine);
  if (!executablePath) throw new Error((await unavailableReason(engine)) ?? `no ${engine}`);
  if (engine === 'firefox') return launchFirefox(executablePath);
  const playwright = await loadPlaywright();
  if (!playwright) throw new Error((await unavailableReason(engine)) ?? 'no playwright-core');
  // launch() gives every browser a fresh temporary profile (user-data-dir) and removes it on close.
  return playwright.chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

export interface UiServer {
  url: string;
  masterKey: string;
  serve: ServeProcess;
  close(): Promise<void>;
}

/**
 * `quorum serve` on the demo, in an empty directory with a fresh SQLite store, the master key set and
 * no provider keys; `config` (teams, static keys) is written to a file when given.
 */
export async function startUiServer(
  options: {
    config?: Record<string, unknown>;
    masterKey?: string;
    /** Fills the store (its database URL) before the gateway starts on it. */
    prepare?: (databaseUrl: string) => Promise<void>;
  } = {},
): Promise<UiServer> {
  const masterKey = options.masterKey ?? 'mk-ui-test-master-key';
  return { ...(await spawnGateway(options.config, masterKey, options.prepare)), masterKey };
}

/** `quorum serve` on the demo with no keys at all: an open gateway, as a fresh `npm start` is. */
export function startOpenUiServer(): Promise<Omit<UiServer, 'masterKey'>> {
  return spawnGateway(undefined, null);
}

async function spawnGateway(
  config: Record<string, unknown> | undefined,
  masterKey: string | null,
  prepare?: (databaseUrl: string) => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-ui-'));
  const databaseUrl = `sqlite:${join(dir, 'quorum.db')}`;
  await prepare?.(databaseUrl);
  const args: string[] = [];
  if (config) {
    writeFileSync(join(dir, 'quorum.yaml'), stringify(config));
    args.push('--config', join(dir, 'quorum.yaml'));
  }
  const serve = await spawnServe(args, {
    cwd: dir,
    env: cleanEnv({
      ...(masterKey !== null && { QUORUM_MASTER_KEY: masterKey }),
      QUORUM_DATABASE_URL: databaseUrl,
    }),
    timeoutMs: 30_000,
  });
  return {
    url: serve.url,
    serve,
    close: async () => {
      await serve.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls the gateway's API directly (what the page's figures are checked against). */
export async function call<T = any>(
  server: { url: string },
  key: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; data: T }> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined)
    headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
  const res = await fetch(server.url + path, {
    method,
    headers,
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, data: text ? JSON.parse(text) : null };
}

export interface UiPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors seen so far (a CSP violation shows up here too). */
  errors: string[];
  close(): Promise<void>;
}

/** A new browser context (its own sessionStorage) at a laptop's size, with its errors collected. */
export async function openPage(browser: Browser, server: { url: string }): Promise<UiPage> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, baseURL: server.url });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, context, errors, close: () => context.close() };
}

/** Opens /ui and signs in with `key`; resolves once the shell shows who is signed in. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.goto('/ui');
  await page.locator('input[name="key"]').fill(key);
  await page.locator('form.signin button[type="submit"]').click();
  await page.locator('[data-identity]').waitFor();
}

/** Errors a page logged other than the API answers the pages expect (401 before sign-in, 404s of absent routes). */
export const unexpectedErrors = (ui: UiPage) =>
  ui.errors.filter((e) => !/^Failed to load resource: .* (401|404)/.test(e));

/** The page's own globals, for the functions `page.evaluate` runs there (this project has no DOM types). */
declare const document: any;

/** A chart's rows as the page shows them: group → metric → value. */
export const chartNumbers = async (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const out: Record<string, Record<string, number>> = {};
    for (const row of document.querySelectorAll(`${sel} tbody tr[data-group]`)) {
      const metrics: Record<string, number> = {};
      for (const cell of row.querySelectorAll('[data-metric]')) {
        metrics[cell.getAttribute('data-metric')!] = Number(cell.getAttribute('data-value'));
      }
      out[row.getAttribute('data-group')!] = metrics;
    }
    return out;
  }, selector);
