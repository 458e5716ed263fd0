/**
 * Firefox for the browser tests: Debian's `firefox-esr` driven over WebDriver BiDi by puppeteer-core,
 * behind the same small Playwright-shaped interface (`playwright.ts`) the suite is written against, so
 * every dashboard test runs unchanged in both browsers.
 *
 * Why not Playwright's own Firefox: it drives a patched build (a download that cannot work here), and
 * its BiDi channel for stock Firefox sends commands that the ESR in Debian does not know yet. Puppeteer
 * speaks the BiDi that stock Firefox ships.
 *
 * Locators behave as the suite relies on: lazy (resolved on every use), CSS only, waiting until their
 * element is there (and visible, for actions), strict (an action on a locator that matches several
 * elements fails, as in Playwright). Text is typed as `fill` does it: the value set, then `input` and
 * `change` events.
 */
import type * as Puppeteer from 'puppeteer-core';
import type { Browser, BrowserContext, Dialog, Locator, Page } from './playwright.ts';

/** One step of a locator: a CSS selector under the previous step's elements, or one of them by index. */
type Step = { css: string } | { nth: number };

const DEFAULT_TIMEOUT = 30_000;
const POLL_MS = 50;

export async function launchFirefox(executablePath: string): Promise<Browser> {
  const puppeteer = (await import(PUPPETEER)).default as typeof Puppeteer.default;
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath,
    headless: true,
    // No update checks, telemetry or first-run pages in a test profile.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'browser.shell.checkDefaultBrowser': false,
    },
  });
  return {
    async newContext(options = {}) {
      const context = await browser.createBrowserContext();
      return firefoxContext(context, options);
    },
    close: () => browser.close(),
  };
}

/** The package name in a variable: the suite type-checks before `npm ci` has installed it. */
const PUPPETEER = 'puppeteer-core';

function firefoxContext(
  context: Puppeteer.BrowserContext,
  options: { viewport?: { width: number; height: number }; baseURL?: string },
): BrowserContext {
  return {
    async newPage() {
      const page = await context.newPage();
      // The locator helpers are defined in every document before its own scripts run: the pages' CSP
      // forbids building functions from strings, and a preload script is not subject to it.
      await page.evaluateOnNewDocument(installLocatorHelpers);
      if (options.viewport) await page.setViewport(options.viewport);
      return firefoxPage(page, options.baseURL);
    },
    close: () => context.close(),
  };
}

function firefoxPage(page: Puppeteer.Page, baseURL: string | undefined): Page {
  const wrapped: Page = {
    goto: (url) => page.goto(baseURL ? new URL(url, baseURL).href : url),
    locator: (selector) => locator(page, [{ css: selector }]),
    evaluate: (fn, arg) => page.evaluate(fn as (a: unknown) => unknown, arg) as never,
    waitForFunction: (fn, arg, options) =>
      page.waitForFunction(
        fn as (a: unknown) => unknown,
        { timeout: options?.timeout ?? DEFAULT_TIMEOUT },
        arg,
      ),
    waitForTimeout: (ms) => new Promise((r) => setTimeout(r, ms)),
    screenshot: (options) => page.screenshot(options as Puppeteer.ScreenshotOptions) as Promise<Uint8Array>,
    setViewportSize: (size) => page.setViewport(size),
    content: () => page.content(),
    url: () => page.url(),
    on(event: string, fn: (arg: never) => void) {
      if (event === 'console')
        page.on('console', (m) => fn({ type: () => m.type(), text: () => m.text() } as never));
      else if (event === 'pageerror') page.on('pageerror', (e) => fn(e as never));
      else if (event === 'dialog')
        page.on('dialog', (d) => {
          const dialog: Dialog = { accept: (text) => d.accept(text), message: () => d.message() };
          fn(dialog as never);
        });
    },
  } as Page;
  return wrapped;
}

/** Runs in the page, before its scripts: the two helpers every locator call uses. */
function installLocatorHelpers() {
  const g = globalThis as any;
  /** The elements a locator's steps select. */
  g.__quorumLocate = (steps: Step[]): unknown[] => {
    let found: any[] = [g.document];
    for (const step of steps) {
      if ('css' in step) {
        const next = new Set<any>();
        for (const root of found) for (const el of root.querySelectorAll(step.css)) next.add(el);
        found = [...next];
      } else {
        const el = step.nth < 0 ? found[found.length + step.nth] : found[step.nth];
        found = el ? [el] : [];
      }
    }
    return found;
  };
  /** Whether an element takes up space and is not hidden by style. */
  g.__quorumShown = (el: any): boolean => {
    if (!el?.isConnected) return false;
    const style = g.getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 || box.height > 0;
  };
}

/** A call into the page, tried again while a navigation replaces the document it ran in. */
async function retryNavigation<T>(fn: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await fn();
    } catch (e) {
      if (tries > 40 || !/context|destroyed|navigat|__quorum/i.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

function describeSteps(steps: Step[]): string {
  return steps.map((s) => ('css' in s ? s.css : s.nth === 0 ? 'first()' : `nth(${s.nth})`)).join(' >> ');
}

function locator(page: Puppeteer.Page, steps: Step[]): Locator {
  const count = () => page.evaluate((s: Step[]) => (globalThis as any).__quorumLocate(s).length, steps);

  /** The one element the locator selects, once it is there (and shown, when `visible`). */
  async function element(timeout = DEFAULT_TIMEOUT, visible = false): Promise<Puppeteer.ElementHandle> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const handle = await retryNavigation(() =>
        page.evaluateHandle(
          (s: Step[], wantVisible: boolean) => {
            const els = (globalThis as any).__quorumLocate(s);
            if (els.length > 1) return `strict mode violation: ${els.length} elements`;
            const el = els[0];
            if (!el) return null;
            if (wantVisible && !(globalThis as any).__quorumShown(el)) return null;
            return el;
          },
          steps,
          visible,
        ),
      );
      const el = handle.asElement();
      if (el) return el as Puppeteer.ElementHandle;
      const value = await handle.jsonValue();
      await handle.dispose();
      if (typeof value === 'string') throw new Error(`locator ${describeSteps(steps)}: ${value}`);
      if (Date.now() > deadline)
        throw new Error(`locator ${describeSteps(steps)}: not found within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Runs `fn` on the element in the page, then lets its handle go. */
  async function onElement<T>(fn: (el: any, arg: any) => T, arg?: unknown, visible = false): Promise<T> {
    return withElement(
      DEFAULT_TIMEOUT,
      visible,
      async (el) => (await el.evaluate(fn as never, arg as never)) as T,
    );
  }

  /**
   * Resolves the element and acts on it; when the page re-renders it away in between (the pages redraw
   * from their event streams), resolves again, as Playwright's actions do.
   */
  async function withElement<T>(
    timeout: number,
    visible: boolean,
    act: (el: Puppeteer.ElementHandle) => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const el = await element(Math.max(0, deadline - Date.now()), visible);
      try {
        return await act(el);
      } catch (e) {
        if (
          Date.now() > deadline ||
          // A redrawn node can also read as having no box ("not clickable") until it is resolved again.
          !/detached|not connected|stale|no such node|not attached|not clickable/i.test(String(e))
        )
          throw e;
      } finally {
        await el.dispose().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async function waitFor(options: Parameters<Locator['waitFor']>[0] = {}) {
    const state = options.state ?? 'visible';
    const deadline = Date.now() + (options.timeout ?? DEFAULT_TIMEOUT);
    for (;;) {
      const seen = await retryNavigation(() =>
        page.evaluate((s: Step[]) => {
          const els = (globalThis as any).__quorumLocate(s);
          const show = (globalThis as any).__quorumShown;
          return { attached: els.length > 0, visible: els.some((e: unknown) => show(e)) };
        }, steps),
      );
      const done =
        state === 'attached'
          ? seen.attached
          : state === 'detached'
            ? !seen.attached
            : state === 'visible'
              ? seen.visible
              : !seen.visible;
      if (done) return;
      if (Date.now() > deadline) throw new Error(`locator ${describeSteps(steps)}: not ${state} in time`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Sets a form field's value as a person's typing would end: the value, then input and change events. */
  const setValue = (el: any, value: string) => {
    el.focus();
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  };

  return {
    click: (options) => withElement(options?.timeout ?? DEFAULT_TIMEOUT, true, (el) => el.click()),
    fill: (value) => onElement(setValue, value, true),
    async check() {
      const checked = await onElement((el) => Boolean(el.checked), undefined, true);
      if (!checked) await this.click();
    },
    selectOption: (value) =>
      onElement(
        (el, wanted: string[]) => {
          const picked: string[] = [];
          for (const option of el.options) {
            option.selected = wanted.includes(option.value) || wanted.includes(option.label);
            if (option.selected) picked.push(option.value);
          }
          el.dispatchEvent(new Event('input', { bubbles: true }));
          el.dispatchEvent(new Event('change', { bubbles: true }));
          return picked;
        },
        Array.isArray(value) ? value : [value],
        true,
      ),
    waitFor,
    textContent: () => onElement((el) => el.textContent as string | null),
    innerText: () => onElement((el) => el.innerText as string),
    inputValue: () => onElement((el) => el.value as string),
    getAttribute: (name) => onElement((el, n: string) => el.getAttribute(n) as string | null, name),
    count,
    allTextContents: () =>
      page.evaluate(
        (s: Step[]) => (globalThis as any).__quorumLocate(s).map((e: any) => e.textContent ?? ''),
        steps,
      ),
    isVisible: () =>
      page.evaluate((s: Step[]) => {
        const els = (globalThis as any).__quorumLocate(s);
        return els.some((e: unknown) => (globalThis as any).__quorumShown(e));
      }, steps),
    locator: (selector) => locator(page, [...steps, { css: selector }]),
    first: () => locator(page, [...steps, { nth: 0 }]),
    nth: (index) => locator(page, [...steps, { nth: index }]),
    screenshot: (options) =>
      withElement(
        DEFAULT_TIMEOUT,
        true,
        async (el) => (await el.screenshot(options as Puppeteer.ElementScreenshotOptions)) as Uint8Array,
      ),
  };
}
