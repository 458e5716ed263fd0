/**
 * `npm run screenshots`: every dashboard page as PNG in docs/ui/, taken with the browser tests' harness
 * against a fresh no-config demo gateway (master key set), seeded through the public API.
 *
 *   npm run screenshots            # all pages
 *   npm run screenshots -- teams   # the ones named
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchBrowser, openPage, signIn, startUiServer, unavailableReason } from './harness.ts';
import type { Page } from './playwright.ts';
import { seed, seedScopes, settledSpend } from './seed.ts';

const OUT = resolve(import.meta.dirname, '../../docs/ui');

/** A page this gateway cannot show (no request log): no picture. */
class Skip extends Error {}

const reason = await unavailableReason();
if (reason) {
  process.stderr.write(`${reason}\n`);
  process.exit(1);
}

const wanted = new Set(process.argv.slice(2));
const server = await startUiServer();
const browser = await launchBrowser();
try {
  const seeded = await seed(server);
  // Budget scopes (several windows, a key, end users, a tag, an override), so the Overview shows them.
  await seedScopes(server);
  await settledSpend(server);
  mkdirSync(OUT, { recursive: true });
  const ui = await openPage(browser, server);
  const { page } = ui;

  const shots: [string, (p: Page) => Promise<void>][] = [
    [
      'signin',
      async (p) => {
        await p.goto('/ui');
        await p.locator('form.signin').waitFor();
      },
    ],
    [
      'overview',
      async (p) => {
        await signIn(p, server.masterKey);
        await p.goto('/ui/#/overview?range=7');
        await p.locator('[data-chart="team"] tbody tr[data-group]').first().waitFor();
      },
    ],
    [
      'usage',
      async (p) => {
        await p.goto('/ui/#/usage');
        await p.locator('[data-chart="usage"], [data-unavailable]').first().waitFor();
      },
    ],
    [
      'requests',
      async (p) => {
        await p.goto('/ui/#/requests');
        await p.locator('[data-table="requests"], [data-unavailable]').first().waitFor();
      },
    ],
    [
      'request',
      async (p) => {
        // A fan-out's record, where the gateway keeps a request log.
        await p.goto('/ui/#/requests');
        await p.locator('[data-table="requests"], [data-unavailable]').first().waitFor();
        const row = p.locator('tr[data-request]:has(td:nth-child(5):text-is("panel")) a');
        if ((await row.count()) === 0) throw new Skip();
        await row.first().click();
        await p.locator('.panel').waitFor();
      },
    ],
    [
      'teams',
      async (p) => {
        await p.goto('/ui/#/teams');
        await p.locator('[data-table="keys"]').waitFor();
      },
    ],
    [
      'alerts',
      async (p) => {
        await p.goto('/ui/#/alerts');
        await p.locator('[data-table="alerts"] tr[data-alert]').first().waitFor();
      },
    ],
    [
      'audit',
      async (p) => {
        await p.goto('/ui/#/audit');
        await p.locator('[data-table="audit"] tr[data-entry]').first().waitFor();
      },
    ],
    [
      'playground',
      async (p) => {
        await p.goto('/ui/#/playground');
        await p.locator('[data-form="playground"] select[name="model"]').selectOption('panel');
        await p.locator('[data-action="dry-run"]').click();
        await p.locator('[data-action="send"]').click();
        await p.locator('.panel').waitFor();
      },
    ],
    [
      'workflows',
      async (p) => {
        await p.goto('/ui/#/workflows');
        await p.locator('[data-table="runs"] tr[data-run]').first().waitFor();
      },
    ],
    [
      'workflow-run',
      async (p) => {
        await p.goto(`/ui/#/runs/${seeded.waitingRun}`);
        await p.locator('[data-approval="check"]').waitFor();
        await p.locator('[data-events] li').nth(7).waitFor();
      },
    ],
  ];
  for (const [name, prepare] of shots) {
    // Earlier pages sign in; a page named alone must too.
    if (wanted.size && !wanted.has(name)) {
      if (name === 'overview') await signIn(page, server.masterKey);
      continue;
    }
    try {
      await prepare(page);
    } catch (err) {
      if (!(err instanceof Skip)) throw err;
      process.stdout.write(`skipped ${name}: not served here\n`);
      continue;
    }
    await page.waitForTimeout(300);
    const path = join(OUT, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    process.stdout.write(`${path}\n`);
  }
} finally {
  await browser.close();
  await server.close();
}
