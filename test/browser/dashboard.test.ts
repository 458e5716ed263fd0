/**
 * The dashboard in real browsers (Debian's chromium driven by playwright-core, and Debian's firefox-esr
 * driven over WebDriver BiDi by puppeteer-core — every test runs in both) against a real
 * `quorum serve` on the demo, seeded through the public API: signing in with the master key and with
 * a team key (which sees only its team), no secret anywhere in the page or the tab's storage but the
 * signed-in key, the Overview's figures against /admin/spend, a key created and revoked, the
 * playground's routing decision and consensus panel, a workflow approved at its gate until its
 * DAG is green, every budget scope's windows against the API (a team key: its team's only), the Alerts
 * and Audit pages, and — on an open gateway as a fresh `npm start` serves — the playground and the
 * example workflow stored, run and approved from the page. A browser is skipped, saying why, only
 * outside CI when it or its driver is not found.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  call,
  ENGINES,
  type Engine,
  launchBrowser,
  chartNumbers as numbers,
  openPage,
  signIn,
  startOpenUiServer,
  startUiServer,
  type UiPage,
  type UiServer,
  unavailableReason,
  unexpectedErrors as unexpected,
} from './harness.ts';
import type { Browser, Page } from './playwright.ts';
import { type Seeded, type SeededScopes, seed, seedScopes, settledSpend } from './seed.ts';

// The page's globals, for the functions run inside it with page.evaluate (this suite's lib has no DOM).
declare const document: any;
declare const location: any;
declare const sessionStorage: any;
declare const localStorage: any;
declare const getComputedStyle: any;

const STATIC = 'sk-ui-static-lab-key-5e4d3c2b1a09f8e7';

/** What the page holds anywhere a secret could leak: markup, every field's value, the URL, storage, cookies. */
async function exposed(page: Page) {
  return page.evaluate(() => ({
    html: document.documentElement.outerHTML,
    values: [...document.querySelectorAll('input, textarea')].map((e: { value: string }) => e.value),
    url: location.href,
    session: Object.fromEntries(Object.entries(sessionStorage)),
    local: Object.keys(localStorage).length,
    cookie: document.cookie,
  }));
}

function expected(rows: { group: string | null; [k: string]: unknown }[]) {
  return Object.fromEntries(
    rows.map((r) => [
      String(r.group),
      {
        cost_usd: r.cost_usd,
        requests: r.requests,
        input_tokens: r.input_tokens,
        output_tokens: r.output_tokens,
      },
    ]),
  );
}

for (const engine of ENGINES) {
  const reason = await unavailableReason(engine);
  if (reason) console.warn(reason);
  describe.skipIf(reason !== null)(`${engine}`, () => dashboard(engine));
}

function dashboard(engine: Engine) {
  let server: UiServer;
  let browser: Browser;
  let seeded: Seeded;
  const pages: UiPage[] = [];

  /** A new tab (its own sessionStorage), closed after the suite. */
  async function tab(): Promise<UiPage> {
    const ui = await openPage(browser, server);
    pages.push(ui);
    return ui;
  }

  describe('the dashboard in a real browser', { timeout: 90_000 }, () => {
    beforeAll(async () => {
      server = await startUiServer({
        config: { teams: [{ id: 'lab' }], keys: [{ key: STATIC, team: 'lab', name: 'lab-ci' }] },
      });
      seeded = await seed(server);
      await settledSpend(server);
      browser = await launchBrowser(engine);
    }, 90_000);
    afterAll(async () => {
      for (const p of pages) await p.close().catch(() => {});
      await browser?.close();
      await server?.close();
    });

    it('signs in with the master key: every page, the key only in sessionStorage, and sign-out forgets it', async () => {
      const ui = await tab();
      const { page } = ui;
      await page.goto('/ui');
      await page.locator('form.signin').waitFor();
      // A wrong key is refused and kept nowhere.
      await page.locator('input[name="key"]').fill('sk-not-a-key');
      await page.locator('form.signin button[type="submit"]').click();
      await expect
        .poll(() => page.locator('.signin-status .error').textContent())
        .toMatch(/Incorrect API key/);
      expect((await exposed(page)).session).toEqual({});

      await signIn(page, server.masterKey);
      expect(await page.locator('[data-identity]').getAttribute('data-identity')).toBe('master');
      expect(await page.locator('.nav a').allTextContents()).toEqual([
        'Overview',
        'Spend over time',
        'Requests',
        'Playground',
        'Workflows',
        'Teams and keys',
        'Alerts',
        'Audit',
      ]);
      const seen = await exposed(page);
      expect(seen.session).toEqual({ 'quorum.key': server.masterKey });
      expect(seen.html).not.toContain(server.masterKey);
      expect(seen.values.join('\n')).not.toContain(server.masterKey);
      expect(seen.url).not.toContain(server.masterKey);
      expect(seen.local).toBe(0);
      expect(seen.cookie).toBe('');

      // A reload keeps the tab signed in; signing out forgets the key.
      await page.goto('/ui/#/teams');
      await page.locator('[data-table="teams"]').waitFor();
      await page.locator('[data-action="sign-out"]').click();
      await page.locator('form.signin').waitFor();
      expect((await exposed(page)).session).toEqual({});
      expect(unexpected(ui)).toEqual([]);
    });

    it('signs in with a team key: that team only (Overview, Spend over time, Requests and its live tail, workflows), no admin page, no other secret', async () => {
      const ui = await tab();
      const { page } = ui;
      const research = seeded.keys.research!;
      await signIn(page, research.key);
      expect(await page.locator('[data-identity]').getAttribute('data-identity')).toBe('team');
      expect(await page.locator('.who-detail').textContent()).toBe('team research · key research-app');
      expect(await page.locator('.nav a').allTextContents()).not.toContain('Teams and keys');

      // The Overview's gauge is this team's budget, as GET /v1/budget gives it to this key.
      const budget = (await call(server, research.key, 'GET', '/v1/budget')).data;
      await page.locator('.gauge[data-team="research"]').waitFor();
      expect(await page.locator('.gauge').count()).toBe(1);
      expect(Number(await page.locator('[data-budget="spent"]').getAttribute('data-value'))).toBe(
        budget.spent_usd,
      );
      expect(Number(await page.locator('[data-budget="limit"]').getAttribute('data-value'))).toBe(
        budget.limit_usd,
      );

      // Its spend by model is GET /v1/usage's for this key, where the gateway has it.
      const from = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
      const usage = await call(
        server,
        research.key,
        'GET',
        `/v1/usage?from=${from}&bucket=day&group_by=model`,
      );
      expect(usage.status).toBe(200);
      await page.locator('[data-chart="model"] tbody tr[data-group]').first().waitFor();
      const shown = await numbers(page, '[data-chart="model"]');
      expect(Object.keys(shown).sort()).toEqual(
        usage.data.groups.map((g: { group: string }) => g.group).sort(),
      );
      for (const g of usage.data.groups) expect(shown[g.group]?.cost_usd).toBe(g.cost_usd);

      // Spend over time by team: this team's row alone.
      await page.goto('/ui/#/usage?range=30d&group_by=team&metric=cost_usd');
      await page.locator('[data-chart="usage-groups"] tbody tr[data-group]').first().waitFor();
      expect(Object.keys(await numbers(page, '[data-chart="usage-groups"]'))).toEqual(['research']);

      // Requests: this team's only, in the list and in the live tail, though support has requests too.
      const ownLog = (await call(server, research.key, 'GET', '/v1/requests?limit=50')).data.data;
      const supportLog = (await call(server, server.masterKey, 'GET', '/v1/requests?team=support&limit=50'))
        .data.data;
      expect(ownLog.length).toBeGreaterThan(0);
      expect(supportLog.length).toBeGreaterThan(0);
      expect(ownLog.every((r: { team: string }) => r.team === 'research')).toBe(true);
      await page.goto('/ui/#/requests');
      await page.locator('[data-table="requests"] tbody tr[data-request]').first().waitFor();
      const listed = () =>
        page.evaluate(() =>
          [...document.querySelectorAll('tr[data-request]')].map((r: any) => r.getAttribute('data-request')),
        );
      expect(await listed()).toEqual(ownLog.map((r: { id: string }) => r.id));
      expect(await page.locator('form select[name="team"], form input[name="team"]').count()).toBe(0);
      await page.locator('input[name="tail"]').check();
      await expect.poll(() => page.locator('[data-tail]').textContent()).toBe('following');
      const asked = async (key: string) => {
        const res = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'demo-fast', messages: [{ role: 'user', content: 'Hello?' }] }),
        });
        expect(res.status).toBe(200);
        return res.headers.get('x-quorum-request-id')!;
      };
      // The other team's request first: had the tail leaked it, it would be there before ours.
      const theirs = await asked(seeded.keys.support!.key);
      const ours = await asked(research.key);
      await page.locator(`tr[data-request="${ours}"].fresh`).waitFor();
      const after = await listed();
      expect(after).not.toContain(theirs);
      for (const r of supportLog) expect(after).not.toContain(r.id);
      // The suite's later figures compare the page with the ledger: let these two calls land first.
      await settledSpend(server);
      expect(await page.locator('main').textContent()).not.toContain('support');

      // Workflows and runs: the master's are not this team's.
      await page.goto('/ui/#/workflows');
      await page.locator('[data-table="runs"]').waitFor();
      expect(await page.locator('[data-table="workflows"] tbody tr[data-workflow]').count()).toBe(0);
      expect(await page.locator('[data-table="runs"] tbody tr[data-run]').count()).toBe(0);

      await page.goto('/ui/#/teams');
      await expect.poll(() => page.locator('main .error').textContent()).toMatch(/needs the master key/);

      const seen = await exposed(page);
      expect(seen.session).toEqual({ 'quorum.key': research.key });
      for (const secret of [research.key, seeded.keys.support!.key, server.masterKey, STATIC]) {
        expect(seen.html).not.toContain(secret);
        expect(seen.values.join('\n')).not.toContain(secret);
      }
      expect(seen.html).not.toContain('support');
      expect(unexpected(ui)).toEqual([]);
    });

    it("shows the Overview's figures exactly as /admin/spend gives them, for each range", async () => {
      const ui = await tab();
      const { page } = ui;
      await signIn(page, server.masterKey);
      const from = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
      for (const [range, query] of [
        ['30', `&from=${from}`],
        ['all', ''],
      ] as const) {
        await page.goto(`/ui/#/overview?range=${range}`);
        await page.locator('[data-chart="team"] tbody tr[data-group]').first().waitFor();
        for (const groupBy of ['model', 'team', 'day']) {
          const api = (
            await call(server, server.masterKey, 'GET', `/admin/spend?group_by=${groupBy}${query}`)
          ).data;
          expect(api.data.length, groupBy).toBeGreaterThan(0);
          expect(await numbers(page, `[data-chart="${groupBy}"]`), `${groupBy}, range ${range}`).toEqual(
            expected(api.data),
          );
        }
        const byTeam = (await call(server, server.masterKey, 'GET', `/admin/spend?group_by=team${query}`))
          .data.data;
        const total = byTeam.reduce((a: number, r: { requests: number }) => a + r.requests, 0);
        expect(Number(await page.locator('[data-total="requests"]').getAttribute('data-value'))).toBe(total);
      }
      // Every team with a budget has its gauge, with the admin API's figures.
      const teams = (await call(server, server.masterKey, 'GET', '/admin/teams')).data.data;
      for (const t of teams.filter((x: { budget?: unknown }) => x.budget)) {
        const gauge = page.locator(`.gauge[data-team="${t.id}"]`);
        expect(Number(await gauge.locator('[data-budget="spent"]').getAttribute('data-value'))).toBe(
          t.spent_usd,
        );
        expect(Number(await gauge.locator('[data-budget="remaining"]').getAttribute('data-value'))).toBe(
          t.remaining_usd,
        );
      }
      expect(unexpected(ui)).toEqual([]);
    });

    it('creates a key (shown once, copied, then gone from the page) and revokes it', async () => {
      const ui = await tab();
      const { page } = ui;
      await signIn(page, server.masterKey);
      await page.goto('/ui/#/teams');
      await page.locator('[data-table="keys"]').waitFor();
      // The config file's key is listed as such, with nothing to click.
      const staticRow = page.locator('tr[data-key="static:lab-ci"]');
      expect(await staticRow.textContent()).toContain('config file');
      expect(await staticRow.locator('button').count()).toBe(0);

      await page.locator('details:has([data-form="new-key"]) > summary').click();
      await page.locator('[data-form="new-key"] select[name="team"]').selectOption('research');
      await page.locator('[data-form="new-key"] input[name="name"]').fill('browser-made');
      await page.locator('[data-form="new-key"] button[type="submit"]').click();
      const secretField = page.locator('input[data-secret]');
      await secretField.waitFor();
      const secret = await secretField.inputValue();
      expect((await call(server, secret, 'GET', '/v1/whoami')).data).toMatchObject({
        role: 'team',
        team: 'research',
      });
      const listed = (await call(server, server.masterKey, 'GET', '/admin/keys?team=research')).data.data;
      const made = listed.find((k: { name: string }) => k.name === 'browser-made');
      expect(made.status).toBe('active');
      await page.locator(`tr[data-key="${made.id}"]`).waitFor();

      await page.locator('[data-action="copy"]').click();
      await page.locator('[data-action="done"]').click();
      await secretField.waitFor({ state: 'detached' });
      const seen = await exposed(page);
      expect(seen.html).not.toContain(secret);
      expect(seen.values.join('\n')).not.toContain(secret);
      expect(Object.values(seen.session)).toEqual([server.masterKey]);

      page.on('dialog', (d) => d.accept());
      await page.locator(`tr[data-key="${made.id}"] [data-action="revoke"]`).click();
      await page.locator(`tr[data-key="${made.id}"][data-status="revoked"]`).waitFor();
      expect((await call(server, secret, 'GET', '/v1/whoami')).status).toBe(401);
      expect(unexpected(ui)).toEqual([]);
    });

    it('creates a team with a budget and limits, then edits it, through the admin API', async () => {
      const ui = await tab();
      const { page } = ui;
      await signIn(page, server.masterKey);
      await page.goto('/ui/#/teams');
      await page.locator('[data-table="teams"]').waitFor();
      await page.locator('details:has([data-form="new-team"]) > summary').click();
      const form = page.locator('[data-form="new-team"]');
      await form.locator('input[name="id"]').fill('browser-team');
      await form.locator('input[name="limit_usd"]').fill('5');
      await form.locator('select[name="period"]').selectOption('weekly');
      await form.locator('input[name="rpm"]').fill('60');
      await form.locator('input[name="models"]').fill('demo-fast panel');
      await form.locator('button[type="submit"]').click();
      await page.locator('tr[data-team="browser-team"]').waitFor();
      expect((await call(server, server.masterKey, 'GET', '/admin/teams/browser-team')).data).toMatchObject({
        budget: { limit_usd: 5, period: 'weekly' },
        limits: { rpm: 60 },
        models: ['demo-fast', 'panel'],
      });

      await page.locator('tr[data-team="browser-team"] [data-action="edit-team"]').click();
      const edit = page.locator('[data-form="edit-team"]');
      await edit.locator('input[name="rpm"]').fill('');
      await edit.locator('input[name="models"]').fill('');
      await edit.locator('input[name="limit_usd"]').fill('7.5');
      await edit.locator('button[type="submit"]').click();
      await expect
        .poll(async () => (await call(server, server.masterKey, 'GET', '/admin/teams/browser-team')).data)
        .toMatchObject({ budget: { limit_usd: 7.5, period: 'weekly' } });
      const team = (await call(server, server.masterKey, 'GET', '/admin/teams/browser-team')).data;
      expect(team.limits).toBeUndefined();
      expect(team.models).toBeUndefined();

      // A config-file team cannot be changed here.
      expect(await page.locator('tr[data-team="lab"] button').count()).toBe(0);
      // A bad value comes back as the API's message, next to the form.
      await page.locator('tr[data-team="browser-team"] [data-action="edit-team"]').click();
      await page.locator('[data-form="edit-team"] input[name="models"]').fill('no-such-model');
      await page.locator('[data-form="edit-team"] button[type="submit"]').click();
      await expect
        .poll(() => page.locator('[data-form="edit-team"] .error').textContent())
        .toMatch(/unknown model, alias or preset "no-such-model"/);
      expect(unexpected(ui).filter((e) => !/status of 400/.test(e))).toEqual([]);
    });

    it("the playground shows a preset's panel before and after sending, routes auto, and compares models", async () => {
      const ui = await tab();
      const { page } = ui;
      await signIn(page, server.masterKey);
      await page.goto('/ui/#/playground');
      const form = page.locator('[data-form="playground"]');
      await form.waitFor();

      await form.locator('select[name="model"]').selectOption('panel');
      await page.locator('[data-action="dry-run"]').click();
      expect(await page.locator('[data-preset="panel"]').textContent()).toContain(
        'demo-fast, demo-smart, demo-mini',
      );
      await page.locator('[data-action="send"]').click();
      const panel = page.locator('.panel[data-strategy="consensus"]');
      await panel.waitFor();
      expect(await panel.locator('.candidate').count()).toBe(3);
      expect(await panel.locator('[data-groups]').getAttribute('data-groups')).toBe('2');
      expect(Number(await panel.locator('[data-agreement]').getAttribute('data-agreement'))).toBeCloseTo(
        2 / 3,
      );
      expect(await page.locator('[data-answer="panel"] [data-field="content"]').textContent()).toContain(
        '391',
      );
      for (let i = 0; i < 3; i++) {
        expect(
          Number(
            await panel.locator(`[data-candidate="${i}"] [data-field="cost"]`).getAttribute('data-value'),
          ),
        ).toBeGreaterThan(0);
      }

      // auto: the dry run's choice is the API's.
      await form.locator('select[name="model"]').selectOption('auto');
      await page.locator('[data-action="dry-run"]').click();
      const decision = page.locator('.decision[data-decision]');
      await decision.waitFor();
      const api = (
        await call(server, server.masterKey, 'POST', '/v1/route', {
          model: 'auto',
          messages: [{ role: 'user', content: 'What is 17 * 23?' }],
        })
      ).data;
      expect(await decision.getAttribute('data-decision')).toBe(api.chosen);
      expect(await decision.locator('tbody tr').count()).toBe(api.candidates.length);
      expect(await decision.locator('[data-why]').textContent()).toBe(api.why);

      // Compare: three models side by side, each with its cost and latency.
      await form.locator('input[name="compare"]').check();
      await form.locator('select[name="compare-2"]').selectOption('demo-mini');
      await page.locator('[data-action="send"]').click();
      const grid = page.locator('[data-compare="3"]');
      await grid.waitFor();
      expect(await grid.locator('[data-answer]').count()).toBe(3);
      expect(await grid.locator('[data-field="latency"]').count()).toBe(3);
      expect(await grid.locator('[data-field="cost"]').count()).toBe(3);
      expect(unexpected(ui)).toEqual([]);
    });

    it('runs the demo workflow, approves its gate, and the DAG turns green', async () => {
      const ui = await tab();
      const { page } = ui;
      await signIn(page, server.masterKey);
      // The seeded run is listed among those waiting for approval.
      await page.goto('/ui/#/workflows?status=waiting');
      await page.locator(`tr[data-run="${seeded.waitingRun}"]`).waitFor();

      await page.locator('tr[data-workflow="hometown-distance"] a').click();
      const start = page.locator('[data-form="start-run"]');
      await start.waitFor();
      await start.locator('input[name="a"]').fill('Grace Hopper');
      await start.locator('input[name="b"]').fill('Alan Turing');
      await page.locator('[data-action="start-run"]').click();
      // The run page follows the events: the gate waits, with what it is asked to approve.
      await page.locator('.node[data-step="check"][data-status="waiting"]').waitFor();
      const approval = page.locator('[data-approval="check"]');
      await approval.waitFor();
      expect(await approval.textContent()).toContain('Grace Hopper');
      const runId = decodeURIComponent(page.url().split('#/runs/')[1]!);
      expect((await call(server, server.masterKey, 'GET', `/v1/runs/${runId}`)).data.status).toBe('waiting');

      await page.locator('[data-action="approve"]').click();
      await page.locator('[data-run-status="succeeded"]').waitFor();
      for (const step of ['town_a', 'town_b', 'distance', 'check']) {
        await page.locator(`.node[data-step="${step}"][data-status="succeeded"]`).waitFor();
      }
      const fills = await page.evaluate(() => {
        const ok = getComputedStyle(document.documentElement).getPropertyValue('--ok-bg').trim();
        const probe = document.createElement('div');
        probe.style.color = ok;
        document.body.append(probe);
        const want = getComputedStyle(probe).color;
        probe.remove();
        return {
          want,
          got: [...document.querySelectorAll('.node rect')].map(
            (r: unknown) => getComputedStyle(r).fill as string,
          ),
        };
      });
      expect(fills.got).toEqual([fills.want, fills.want, fills.want, fills.want]);
      expect((await call(server, server.masterKey, 'GET', `/v1/runs/${runId}`)).data.status).toBe(
        'succeeded',
      );
      expect(await page.locator('[data-events] li[data-type="run.succeeded"]').count()).toBe(1);
      expect(unexpected(ui)).toEqual([]);
    });

    it("corrects a step, rejects the gate, re-runs from a step and cancels, following the run's events", async () => {
      const ui = await tab();
      const { page } = ui;
      const run = (
        await call(server, server.masterKey, 'POST', '/v1/workflows/hometown-distance/runs?wait=true', {
          inputs: { a: 'Marie Curie', b: 'Niels Bohr' },
        })
      ).data;
      const state = async () => (await call(server, server.masterKey, 'GET', `/v1/runs/${run.id}`)).data;
      await signIn(page, server.masterKey);
      await page.goto(`/ui/#/runs/${run.id}`);
      await page.locator('[data-approval="check"]').waitFor();
      page.on('dialog', (d) => d.accept());

      // Correct distance: its output becomes the person's, and the gate (which depends on it) waits again.
      await page.locator('.node[data-step="distance"]').click();
      await page
        .locator('[data-step-detail="distance"] details:has([data-form="correct"]) > summary')
        .click();
      await page.locator('[data-form="correct"] textarea[name="output"]').fill('About 1,370 km.');
      await page.locator('[data-form="correct"] input[name="comment"]').fill('checked on a map');
      await page.locator('[data-action="correct"]').click();
      await expect.poll(async () => (await state()).steps.distance.output).toBe('About 1,370 km.');
      const corrected = (await state()).steps.distance.history.at(-1);
      expect(corrected).toMatchObject({ source: 'person', comment: 'checked on a map' });
      await page.locator('.node[data-step="check"][data-status="waiting"]').waitFor();

      // Reject the gate: the step and the run fail, in red.
      await page.locator('.node[data-step="check"]').click();
      await page.locator('[data-approval="check"] input[name="comment"]').fill('wrong towns');
      await page.locator('[data-action="reject"]').click();
      await page.locator('[data-run-status="failed"]').waitFor();
      await page.locator('.node[data-step="check"][data-status="failed"]').waitFor();
      expect((await state()).steps.check.error).toContain('wrong towns');

      // Re-run from town_a: it and what follows run again, up to the gate.
      await page.locator('.node[data-step="town_a"]').click();
      await page.locator('[data-step-detail="town_a"] [data-action="rerun"]').click();
      await page.locator('[data-run-status="waiting"]').waitFor();
      await page.locator('.node[data-step="check"][data-status="waiting"]').waitFor();
      expect((await state()).steps.town_a.history.length).toBe(2);

      // Cancel: the gate is skipped, the run cancelled.
      await page.locator('[data-action="cancel"]').click();
      await page.locator('[data-run-status="cancelled"]').waitFor();
      expect((await state()).status).toBe('cancelled');
      await page.locator('.node[data-step="check"][data-status="skipped"]').waitFor();
      expect(unexpected(ui)).toEqual([]);
    });

    it('asks to sign in again once the signed-in key is revoked, and forgets it', async () => {
      const ui = await tab();
      const { page } = ui;
      const made = (
        await call(server, server.masterKey, 'POST', '/admin/keys', { team: 'support', name: 'short-lived' })
      ).data;
      await signIn(page, made.key);
      expect(await page.locator('.who-detail').textContent()).toBe('team support · key short-lived');
      await call(server, server.masterKey, 'DELETE', `/admin/keys/${made.id}`);
      await page.locator('a[data-nav="workflows"]').click();
      await expect
        .poll(() => page.locator('.signin-status .error').textContent())
        .toMatch(/revoked.*Sign in again/);
      expect((await exposed(page)).session).toEqual({});
    });

    it('Spend over time shows /v1/usage with its figures beside the chart', async () => {
      const ui = await tab();
      const { page } = ui;
      await signIn(page, server.masterKey);
      await page.goto('/ui/#/usage?range=7d&group_by=model&metric=cost_usd');
      const from = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
      const api = await call(
        server,
        server.masterKey,
        'GET',
        `/v1/usage?from=${from}&bucket=day&group_by=model`,
      );
      // Every server of this suite has a store, so the page must show the report, never "unavailable".
      expect(api.status).toBe(200);
      await page.locator('[data-chart="usage-groups"] tbody tr[data-group]').first().waitFor();
      const shown = await numbers(page, '[data-chart="usage-groups"]');
      for (const g of api.data.groups) {
        const name = g.other ? 'other' : g.group === null ? '(none)' : g.group;
        expect(shown[name], name).toMatchObject({
          cost_usd: g.cost_usd,
          requests: g.requests,
          input_tokens: g.input_tokens,
          output_tokens: g.output_tokens,
        });
      }
      expect(Object.keys(shown).length).toBe(api.data.groups.length);
      for (const key of ['cost_usd', 'requests', 'input_tokens', 'output_tokens']) {
        expect(Number(await page.locator(`[data-total="${key}"]`).getAttribute('data-value')), key).toBe(
          api.data.totals[key],
        );
      }
      expect(await page.locator('[data-chart="usage"] .column').count()).toBe(api.data.buckets.length);
      expect(unexpected(ui)).toEqual([]);
    });

    it("Requests lists the log, follows the live tail, and opens a fan-out's panel", async () => {
      const ui = await tab();
      const { page } = ui;
      await signIn(page, server.masterKey);
      await page.goto('/ui/#/requests');
      const api = await call(server, server.masterKey, 'GET', '/v1/requests?limit=50');
      // Every server of this suite has a store, so the page must show the log, never "unavailable".
      expect(api.status).toBe(200);
      await page.locator('[data-table="requests"] tbody tr[data-request]').first().waitFor();
      const ids = await page.evaluate(() =>
        [...document.querySelectorAll('tr[data-request]')].map((r: any) => r.getAttribute('data-request')),
      );
      expect(ids).toEqual(api.data.data.map((r: { id: string }) => r.id));

      // The live tail: a request made now appears at the top.
      await page.locator('input[name="tail"]').check();
      await expect.poll(() => page.locator('[data-tail]').textContent()).toBe('following');
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${seeded.keys.research!.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'panel', messages: [{ role: 'user', content: 'What is 17 * 23?' }] }),
      });
      expect(res.status).toBe(200);
      const id = res.headers.get('x-quorum-request-id')!;
      await page.locator(`tr[data-request="${id}"].fresh`).waitFor();

      // Its record: the panel side by side, and no text (content logging is off by default).
      await page.locator(`tr[data-request="${id}"] a`).click();
      const panel = page.locator('.panel[data-strategy="consensus"]');
      await panel.waitFor();
      expect(await panel.locator('.candidate').count()).toBe(3);
      expect(await page.locator('main').textContent()).toContain('Not logged');
      expect(await page.locator('main').textContent()).not.toContain('What is 17 * 23?');
      expect(unexpected(ui)).toEqual([]);
    });
  });

  describe('budget scopes, alerts and the audit log', { timeout: 90_000 }, () => {
    let scoped: UiServer;
    let own: Browser;
    let seededScopes: SeededScopes;
    let hook: HttpServer;
    const ownPages: UiPage[] = [];
    const ownTab = async () => {
      const ui = await openPage(own, scoped);
      ownPages.push(ui);
      return ui;
    };

    /** The window's figures as the page shows them. */
    const shownWindow = (page: Page, id: string) =>
      page.evaluate((sel) => {
        const el = document.querySelector(`[data-window="${sel}"]`);
        if (!el) return null;
        const out: Record<string, number> = {};
        for (const dd of el.querySelectorAll('[data-budget]')) {
          out[dd.getAttribute('data-budget')!] = Number(dd.getAttribute('data-value'));
        }
        return { figures: out, text: el.textContent as string };
      }, id);

    beforeAll(async () => {
      // A webhook receiver that takes every alert, so each delivery ends `delivered`.
      hook = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
      const port = (hook.address() as AddressInfo).port;
      scoped = await startUiServer({
        config: {
          alerts: {
            webhooks: [
              { url: `http://127.0.0.1:${port}/hook`, secret: 'whsec-ui-test-0123456789', name: 'ops' },
            ],
          },
        },
      });
      seededScopes = await seedScopes(scoped);
      await settledSpend(scoped);
      // The soft-limit alert is recorded and delivered, off the request path.
      await vi.waitFor(
        async () => {
          const alerts = (await call(scoped, scoped.masterKey, 'GET', '/admin/alerts')).data.data;
          if (
            !alerts.some((a: { deliveries: { status: string }[] }) => a.deliveries[0]?.status === 'delivered')
          )
            throw new Error(`no alert delivered yet: ${JSON.stringify(alerts)}`);
        },
        { timeout: 30_000, interval: 200 },
      );
      own = await launchBrowser(engine);
    }, 90_000);
    afterAll(async () => {
      for (const p of ownPages) await p.close().catch(() => {});
      await own?.close();
      await scoped?.close();
      await new Promise((r) => hook?.close(r));
    });

    it('the master key sees every window of every scope, with the API’s figures and the override', async () => {
      const ui = await ownTab();
      const { page } = ui;
      await signIn(page, scoped.masterKey);
      await page.locator('[data-window="acme/team/acme/daily"]').waitFor();
      const windows = (await call(scoped, scoped.masterKey, 'GET', '/admin/budgets')).data.data;
      const key = (w: { team: string; scope: string; id: string; period: string }) =>
        `${w.team}/${w.scope}/${w.id}/${w.period}`;
      // Every scope is there: the team's two windows, the key's, the end user's, the tag's, rival's.
      expect(windows.map(key).sort()).toEqual(
        [
          'acme/team/acme/daily',
          'acme/team/acme/monthly',
          `acme/key/${seededScopes.keys.acme.id}/daily`,
          'acme/user/alice/daily',
          'acme/tag:project:apollo/project:apollo/total',
          'rival/team/rival/weekly',
        ].sort(),
      );
      expect(await page.locator('[data-window]').count()).toBe(windows.length);
      for (const w of windows) {
        expect(w.spent_usd, key(w)).toBeGreaterThan(0);
        const shown = await shownWindow(page, key(w));
        expect(shown?.figures, key(w)).toMatchObject({
          spent: w.spent_usd,
          reserved: w.reserved_usd,
          remaining: w.remaining_usd,
          limit: w.limit_usd,
          ...(w.soft_limit_usd !== null && { soft: w.soft_limit_usd }),
        });
        expect(shown?.text, key(w)).toContain(w.period);
        expect(shown?.text, key(w)).toContain('resets');
      }
      // Labelled by scope, grouped under their team.
      const heading = (scope: string, id: string) =>
        page.locator(`.gauge-card[data-scope="${scope}"][data-scope-id="${id}"] > h3`).textContent();
      expect(await heading('team', 'acme')).toBe('acme · team');
      expect(await heading('key', seededScopes.keys.acme.id)).toBe('acme · key acme-bot');
      expect(await heading('user', 'alice')).toBe('acme · user alice');
      expect(await heading('tag:project:apollo', 'project:apollo')).toBe('acme · tag:project:apollo');
      expect(await page.locator('[data-budget-team]').allTextContents()).toEqual(['acme', 'rival']);
      // The override raises the monthly window only, and says until when and why.
      const monthly = windows.find(
        (w: { period: string; scope: string }) => w.scope === 'team' && w.period === 'monthly',
      );
      expect(monthly).toMatchObject({ limit_usd: 9, configured_limit_usd: 5 });
      const note = page.locator('[data-window="acme/team/acme/monthly"] [data-override]');
      expect(await note.getAttribute('data-override')).toBe(seededScopes.overrideId);
      expect(await note.textContent()).toMatch(/^override until 2099-01-0[12] \d\d:\d\d: launch week/);
      expect(await page.locator('[data-window="acme/team/acme/daily"] [data-override]').count()).toBe(0);
      expect(unexpected(ui)).toEqual([]);
    });

    it("a team key sees its own team's windows only, as GET /v1/budget gives them", async () => {
      const ui = await ownTab();
      const { page } = ui;
      const acme = seededScopes.keys.acme;
      await signIn(page, acme.key);
      await page.locator('[data-window="acme/team/acme/daily"]').waitFor();
      const budget = (await call(scoped, acme.key, 'GET', '/v1/budget')).data;
      expect(budget.scopes.length).toBeGreaterThan(2);
      expect(await page.locator('[data-window]').count()).toBe(budget.scopes.length);
      for (const w of budget.scopes) {
        const id = `acme/${w.scope}/${w.id}/${w.period}`;
        expect((await shownWindow(page, id))?.figures, id).toMatchObject({
          spent: w.spent_usd,
          reserved: w.reserved_usd,
          remaining: w.remaining_usd,
          limit: w.limit_usd,
          ...(w.soft_limit_usd !== null && { soft: w.soft_limit_usd }),
        });
      }
      // The soft limits of every window, not only the team's first.
      expect(budget.scopes.some((w: any) => w.soft_limit_usd !== null)).toBe(true);
      expect(await page.locator(`.gauge-card[data-scope="key"] > h3`).textContent()).toBe(
        'acme · key acme-bot',
      );
      // Nothing of the other team.
      expect(await page.locator('[data-team="rival"]').count()).toBe(0);
      expect(await page.locator('main').textContent()).not.toContain('rival');
      expect(await page.locator('.nav a').allTextContents()).not.toContain('Alerts');
      await page.goto('/ui/#/alerts');
      await expect.poll(() => page.locator('main .error').textContent()).toMatch(/needs the master key/);
      expect(unexpected(ui)).toEqual([]);
    });

    it('lists the alert crossed with its delivery, and the admin actions in the audit log', async () => {
      const ui = await ownTab();
      const { page } = ui;
      await signIn(page, scoped.masterKey);
      await page.goto('/ui/#/alerts');
      await page.locator('[data-table="alerts"]').waitFor();
      const alerts = (await call(scoped, scoped.masterKey, 'GET', '/admin/alerts')).data.data;
      const crossed = alerts.find((a: { type: string }) => a.type === 'budget.soft_limit');
      expect(crossed).toMatchObject({ team: 'acme', scope: 'team', window: 'daily' });
      expect(await page.locator('[data-table="alerts"] tbody tr[data-alert]').count()).toBe(alerts.length);
      const row = page.locator(`tr[data-alert="${crossed.id}"]`);
      const text = await row.textContent();
      expect(text).toContain('acme');
      expect(text).toContain('daily');
      expect(text).toContain('soft limit');
      expect(Number(await row.locator('[data-spent]').getAttribute('data-spent'))).toBe(crossed.spent_usd);
      expect(Number(await row.locator('[data-limit]').getAttribute('data-limit'))).toBe(crossed.limit_usd);
      expect(await row.locator('[data-webhook="ops"]').getAttribute('data-status')).toBe('delivered');

      await page.goto('/ui/#/audit');
      await page.locator('[data-table="audit"]').waitFor();
      const audit = (await call(scoped, scoped.masterKey, 'GET', '/admin/audit')).data.data;
      expect(await page.locator('[data-table="audit"] tbody tr[data-entry]').count()).toBe(audit.length);
      for (const [action, target] of [
        ['team.create', 'team:acme'],
        ['key.create', null],
        ['key.budgets', `key:${seededScopes.keys.acme.id}`],
        ['budget_override.create', `budget_override:${seededScopes.overrideId}`],
      ] as const) {
        const entry = audit.find(
          (e: { action: string; target: string }) =>
            e.action === action && (target === null || e.target === target),
        );
        expect(entry, action).toBeDefined();
        const shown = page.locator(`tr[data-entry="${entry.id}"]`);
        expect(await shown.getAttribute('data-audit-action')).toBe(action);
        expect(await shown.textContent()).toContain(entry.actor);
        if (entry.target) expect(await shown.textContent()).toContain(entry.target);
      }
      expect(await page.locator('main').textContent()).toContain('launch week');
      expect(unexpected(ui)).toEqual([]);
    });

    it('shows the first 60 windows and says how many more there are', async () => {
      // A team with 70 tag budgets: more windows than one page of gauges holds.
      const tags = Object.fromEntries(
        Array.from({ length: 70 }, (_, n) => [
          `lot:${String(n).padStart(2, '0')}`,
          { budget: { limit_usd: 1 } },
        ]),
      );
      const made = await call(scoped, scoped.masterKey, 'POST', '/admin/teams', { id: 'zz-many', tags });
      expect(made.status).toBe(201);
      const ui = await ownTab();
      const { page } = ui;
      await signIn(page, scoped.masterKey);
      await page.locator('[data-more-windows]').waitFor();
      const windows = (await call(scoped, scoped.masterKey, 'GET', '/admin/budgets')).data.data;
      expect(windows.length).toBeGreaterThan(70);
      expect(await page.locator('[data-window]').count()).toBe(60);
      expect(await page.locator('[data-more-windows]').getAttribute('data-more-windows')).toBe(
        String(windows.length - 60),
      );
      expect(await page.locator('[data-more-windows]').textContent()).toContain(
        `${windows.length - 60} more budget windows not shown`,
      );
      // The first page is in order: teams by id, each team's own windows first.
      expect(await page.locator('[data-budget-team]').allTextContents()).toEqual([
        'acme',
        'rival',
        'zz-many',
      ]);
      expect(unexpected(ui)).toEqual([]);
    });
  });

  describe('the dashboard on an open gateway (no keys, a fresh npm start)', { timeout: 60_000 }, () => {
    let open: Awaited<ReturnType<typeof startOpenUiServer>>;
    let own: Browser;
    beforeAll(async () => {
      open = await startOpenUiServer();
      own = await launchBrowser(engine);
    }, 60_000);
    afterAll(async () => {
      await own?.close();
      await open?.close();
    });

    it('needs no sign-in, says it is open, and points the admin pages at QUORUM_MASTER_KEY', async () => {
      const ui = await openPage(own, open);
      const { page } = ui;
      await page.goto('/ui');
      await page.locator('[data-identity="open"]').waitFor();
      expect(await page.locator('form.signin').count()).toBe(0);
      expect(await page.locator('[data-action="sign-out"]').count()).toBe(0);
      await page.locator('.gauge[data-team="default"]').waitFor();
      // Spend: from /v1/usage where the gateway has it, else a pointer to the master key.
      await page.locator('main [data-chart="model"], main [data-unavailable="spend"]').first().waitFor();

      await page.goto('/ui/#/teams');
      await expect.poll(() => page.locator('main .error').textContent()).toMatch(/QUORUM_MASTER_KEY/);

      await page.goto('/ui/#/playground');
      await page.locator('[data-form="playground"] select[name="model"]').selectOption('demo');
      await page.locator('[data-action="send"]').click();
      await page.locator('[data-answer="demo"] [data-field="model"]').waitFor();
      expect(await page.locator('[data-answer="demo"] [data-field="model"]').textContent()).toBe('demo-fast');
      expect(Object.keys(await page.evaluate(() => ({ ...sessionStorage })))).toEqual([]);
      expect(unexpected(ui)).toEqual([]);
    });

    it('stores the example workflow from the page, runs it, and approves its gate', async () => {
      const ui = await openPage(own, open);
      const { page } = ui;
      await page.goto('/ui/#/workflows');
      await page.locator('details.add > summary').click();
      await page.locator('[data-form="new-workflow"] button[type="submit"]').click();
      const start = page.locator('[data-form="start-run"]');
      await start.waitFor();
      await start.locator('input[name="a"]').fill('Grace Hopper');
      await start.locator('input[name="b"]').fill('Alan Turing');
      await page.locator('[data-action="start-run"]').click();
      await page.locator('[data-approval="check"]').waitFor();
      expect(await page.locator('[data-approval="check"]').textContent()).toContain('Grace Hopper');
      await page.locator('[data-action="approve"]').click();
      await page.locator('[data-run-status="succeeded"]').waitFor();
      const runId = decodeURIComponent(page.url().split('#/runs/')[1]!);
      const run = (await call(open, null, 'GET', `/v1/runs/${runId}`)).data;
      expect(run.status).toBe('succeeded');
      expect(run.steps.check.output).toEqual({ approved: true });
      expect(unexpected(ui)).toEqual([]);
    });
  });
}
