/**
 * The part of playwright-core's API the browser tests use, typed here so the suite type-checks whether
 * or not the package is installed yet (it is loaded at run time, see harness.ts).
 */
export interface Locator {
  click(options?: { timeout?: number }): Promise<void>;
  fill(value: string): Promise<void>;
  check(): Promise<void>;
  selectOption(value: string | string[]): Promise<string[]>;
  waitFor(options?: {
    state?: 'attached' | 'detached' | 'visible' | 'hidden';
    timeout?: number;
  }): Promise<void>;
  textContent(): Promise<string | null>;
  innerText(): Promise<string>;
  inputValue(): Promise<string>;
  getAttribute(name: string): Promise<string | null>;
  count(): Promise<number>;
  allTextContents(): Promise<string[]>;
  isVisible(): Promise<boolean>;
  locator(selector: string): Locator;
  first(): Locator;
  nth(index: number): Locator;
  screenshot(options?: { path?: string }): Promise<Uint8Array>;
}

export interface Dialog {
  accept(text?: string): Promise<void>;
  message(): string;
}

export interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  evaluate<T, A = unknown>(fn: (arg: A) => T | Promise<T>, arg?: A): Promise<T>;
  waitForFunction<A = unknown>(
    fn: (arg: A) => unknown,
    arg?: A,
    options?: { timeout?: number },
  ): Promise<unknown>;
  waitForTimeout(ms: number): Promise<void>;
  screenshot(options?: { path?: string; fullPage?: boolean }): Promise<Uint8Array>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  content(): Promise<string>;
  url(): string;
  on(event: 'console', fn: (m: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', fn: (e: Error) => void): void;
  on(event: 'dialog', fn: (d: Dialog) => void): void;
}

export interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface Browser {
  newContext(options?: {
    viewport?: { width: number; height: number };
    baseURL?: string;
    colorScheme?: 'light' | 'dark';
    deviceScaleFactor?: number;
  }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export interface Playwright {
  chromium: {
    launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser>;
  };
}
