/**
 * The dashboard's spend pages on a ledger of 1,000,000 rows (the seed of test/integration/usage-scale and
 * bench/usage.ts, spread over the last 90 days), in both browsers: the master key's Overview over 30
 * days and all time, Spend over time by team and by tag over 90 days, and a team key's own pages, each
 * showing exactly the API's figures for the same filters. How long each page took is printed; the
 * bounds on the queries behind them are measured by `node bench/usage.ts` (docs/benchmarks.md).
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.ts';
import { seedLedger } from '../integration/helpers/ledger-seed.ts';
import {
  call,
  ENGINES,
  type Engine,
  launchBrowser,
  chartNumbers as numbers,
  openPage,
  signIn,
  startUiServer,
  type UiPage,
  type UiServer,
  unavailableReason,
  unexpectedErrors as unexpected,
} from './harness.ts';
import type { Browser, Page } from './playwright.ts';

declare const document: any;

const ROWS = 1_000_000;
const DAY = 86_400_000;
const TEAM_KEY = 'sk-ui-scale-team05-key-0123456789';

const available: Engine[] = [];
for (const engine of ENGINES) {
  const reason = await unavailableReason(engine);
  if (reason) console.warn(reason);
  else available.push(engine);
}

const METRICS = ['cost_usd', 'requests', 'input_tokens', 'output_tokens'] as const;
const pick = (r: Record<string, unknown>) => Object.fromEntries(METRICS.map((k) => [k, r[k]]));
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString().slice(0, 10);

/** Opens `hash`, waits for `selector`'s first row, and says how long the page took. */
async function timed(page: Page, hash: string, selector: string, label: string) {
  const t = performance.now();
  await page.goto(`/ui/${hash}`);
  await page.locator(`${selector} tbody tr[data-group]`).first().waitFor({ timeout: 60_000 });
  const ms = Math.round(performance.now() - t);
  process.stderr.write(`[ui-scale] ${label}: ${ms} ms\n`);
  return ms;
}

/** Spend over time's groups and totals against GET /v1/usage for the same query. */
async function expectUsage(page: Page, server: UiServer, key: string, query: string) {
  const api = await call(server, key, 'GET', `/v1/usage?${query}`);
  expect(api.status).toBe(200);
  const shown = Object.fromEntries(
    Object.entries(await numbers(page, '[data-chart="usage-groups"]')).map(([g, m]) => [g, pick(m)]),
  );
  const want = Object.fromEntries(
    api.data.groups.map((g: Record<string, unknown>) => [
      g.other ? 'other' : g.group === null ? '(none)' : String(g.group),
      pick(g),
    ]),
  );
  expect(shown).toEqual(want);
  for (const k of METRICS) {
    expect(Number(await page.locator(`[data-total="${k}"]`).getAttribute('data-value')), k).toBe(
      api.data.totals[k],
    );
  }
  return api.data;
}

describe.skipIf(available.length === 0)('the dashboard on a ledger of 1,000,000 rows', () => {
  let server: UiServer;

  beforeAll(async () => {
    server = await startUiServer({
      config: { teams: [{ id: 'team-05' }], keys: [{ key: TEAM_KEY, team: 'team-05', name: 'scale' }] },
      prepare: async (url) => {
        const store = await openStore(url);
        try {
          await seedLedger(store, { rows: ROWS, startMs: Date.now() - 90 * DAY, stepMs: 7776 });
        } finally {
          await store.close();
        }
      },
    });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  for (const engine of ENGINES) {
    describe.skipIf(!available.includes(engine))(engine, { timeout: 180_000 }, () => {
      let browser: Browser;
      const pages: UiPage[] = [];
      const tab = async () => {
        const ui = await openPage(browser, server);
        pages.push(ui);
        return ui;
      };
      beforeAll(async () => {
        browser = await launchBrowser(engine);
      }, 60_000);
      afterAll(async () => {
        for (const p of pages) await p.close().catch(() => {});
        await browser?.close();
      });

      it("the master's Overview over 30 days and all time: /admin/spend's figures for every row", async () => {
        const ui = await tab();
        const { page } = ui;
        await signIn(page, server.masterKey);
        for (const [range, query] of [
          ['30', `&from=${daysAgo(29)}`],
          ['all', ''],
        ] as const) {
          await timed(page, `#/overview?range=${range}`, '[data-chart="team"]', `Overview, range ${range}`);
          let requests = 0;
          for (const groupBy of ['model', 'team', 'day']) {
            const api = (
              await call(server, server.masterKey, 'GET', `/admin/spend?group_by=${groupBy}${query}`)
            ).data.data as Record<string, unknown>[];
            const shown = await numbers(page, `[data-chart="${groupBy}"]`);
            expect(shown, `${groupBy}, range ${range}`).toEqual(
              Object.fromEntries(api.map((r) => [String(r.group), pick(r)])),
            );
            if (groupBy === 'team') requests = api.reduce((a, r) => a + (r.requests as number), 0);
          }
          expect(Number(await page.locator('[data-total="requests"]').getAttribute('data-value'))).toBe(
            requests,
          );
          // A fan-out is one request of three calls: all time, fewer requests than rows, never more.
          if (range === 'all') {
            expect(requests).toBeLessThan(ROWS);
            expect(requests).toBeGreaterThan(ROWS / 2);
          }
        }
        expect(unexpected(ui)).toEqual([]);
      });

      it('Spend over time, 90 days by team and by tag (split, not counted once per tag): /v1/usage exactly', async () => {
        const ui = await tab();
        const { page } = ui;
        await signIn(page, server.masterKey);
        const from = daysAgo(89);
        await timed(
          page,
          '#/usage?range=90d&group_by=team&metric=cost_usd',
          '[data-chart="usage-groups"]',
          'Spend over time, 90 days by team',
        );
        const byTeam = await expectUsage(
          page,
          server,
          server.masterKey,
          `from=${from}&bucket=day&group_by=team`,
        );
        expect(await page.locator('[data-chart="usage"] .column').count()).toBe(byTeam.buckets.length);

        await timed(
          page,
          '#/usage?range=90d&group_by=tag&tag_name=project&metric=requests',
          '[data-chart="usage-groups"]',
          'Spend over time, 90 days by tag project',
        );
        const byTag = await expectUsage(
          page,
          server,
          server.masterKey,
          `from=${from}&bucket=day&group_by=tag:project`,
        );
        // Each request has at most one project tag, so the groups add up to the total: nothing counted twice.
        const sum = byTag.groups.reduce((a: number, g: { requests: number }) => a + g.requests, 0);
        expect(sum).toBe(byTag.totals.requests);
        expect(unexpected(ui)).toEqual([]);
      });

      it("a team key's pages show its team only, with the API's figures", async () => {
        const ui = await tab();
        const { page } = ui;
        await signIn(page, TEAM_KEY);
        await timed(page, '#/overview?range=30', '[data-chart="model"]', 'team key: Overview, 30 days');
        const usage = await call(
          server,
          TEAM_KEY,
          'GET',
          `/v1/usage?from=${daysAgo(29)}&bucket=day&group_by=model`,
        );
        expect(usage.status).toBe(200);
        const shown = await numbers(page, '[data-chart="model"]');
        const name = (g: { group: string | null; other?: boolean }) => (g.other ? 'other' : String(g.group));
        expect(Object.keys(shown).sort()).toEqual(usage.data.groups.map(name).sort());
        for (const g of usage.data.groups) expect(shown[name(g)]?.cost_usd).toBe(g.cost_usd);

        await timed(
          page,
          '#/usage?range=90d&group_by=team&metric=requests',
          '[data-chart="usage-groups"]',
          'team key: Spend over time, 90 days by team',
        );
        const mine = await expectUsage(
          page,
          server,
          TEAM_KEY,
          `from=${daysAgo(89)}&bucket=day&group_by=team`,
        );
        expect(mine.groups.map((g: { group: string }) => g.group)).toEqual(['team-05']);
        // team-05 is about 3% of the ledger: its page is not the whole ledger's.
        expect(mine.totals.requests).toBeGreaterThan(0);
        expect(mine.totals.requests).toBeLessThan(ROWS / 10);
        expect(unexpected(ui)).toEqual([]);
      });
    });
  }
});
