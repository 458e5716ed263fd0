/**
 * The alerts without a database (a gateway booted with none): each crossing is logged and counted
 * once per instance, and nothing is sent; the settle path's `observe` does no I/O and never throws.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type AlertSubject, Alerts } from '../../../src/alerts/index.ts';
import { createLogger } from '../../../src/telemetry/index.ts';

const subject = (spentUsd: number, periodKey = '2026-11'): AlertSubject => ({
  scope: 'key',
  scopeId: 'key_ci',
  team: 'research',
  window: 'monthly',
  periodKey,
  limitUsd: 10,
  spentUsd,
  thresholds: [50, 80],
});

function alertsWithLog() {
  let text = '';
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, done) {
        text += chunk.toString();
        done();
      },
    }),
  });
  const settings = {
    webhooks: [{ url: 'http://127.0.0.1:9/never', secret: 'whsec-never-used-0001', name: 'ops' }],
    max_attempts: 3,
    backoff_ms: 10,
    max_backoff_ms: 100,
    timeout_ms: 100,
    poll_ms: 3_600_000,
  };
  return { alerts: new Alerts({ settings, logger }), lines: () => text.split('\n').filter(Boolean) };
}

describe('alerts without a store', () => {
  it('logs each threshold once per period, however often it is seen', async () => {
    const { alerts, lines } = alertsWithLog();
    alerts.observe(subject(4));
    alerts.observe(subject(5.5));
    alerts.observe(subject(6));
    alerts.observe(subject(8.1));
    alerts.observe(subject(9));
    await alerts.poll();
    alerts.observe(subject(5, '2026-12'));
    await alerts.close();
    const said = lines()
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg.startsWith('budget alert: '));
    expect(said.map((l) => [l.period, l.threshold_percent, l.webhooks])).toEqual([
      ['2026-11', 50, 0],
      ['2026-11', 80, 0],
      ['2026-12', 50, 0],
    ]);
    expect(said[0].msg).toBe(
      'budget alert: Key key_ci of team research reached 50% of its budget: spent $5.50 of its $10.00 monthly budget (period 2026-11).',
    );
    expect(lines().some((l) => l.includes('alert delivered') || l.includes('delivery failed'))).toBe(false);
  });

  it('notes nothing once closed', async () => {
    const { alerts, lines } = alertsWithLog();
    await alerts.close();
    alerts.observe(subject(9));
    await alerts.poll();
    expect(lines().filter((l) => l.includes('budget alert'))).toEqual([]);
  });
});
