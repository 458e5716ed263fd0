import { describe, expect, it } from 'vitest';
import { RequestCounter, registry } from '../../../src/telemetry/metrics.ts';

/** The exposition lines of one metric, as a scrape of GET /metrics returns them. */
async function lines(name: string): Promise<string[]> {
  return (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => l.startsWith(name));
}

describe('RequestCounter', () => {
  it('shows every increment at a scrape, per label set, and keeps counting after it', async () => {
    const counter = new RequestCounter({
      name: 'test_request_counter_total',
      help: 'test',
      labelNames: ['team', 'kind'] as const,
    });
    counter.inc(['alpha', 'input'], 10);
    counter.inc(['alpha', 'input'], 5);
    counter.inc(['beta', 'output']);
    expect(await lines('test_request_counter_total')).toEqual([
      'test_request_counter_total{team="alpha",kind="input"} 15',
      'test_request_counter_total{team="beta",kind="output"} 1',
    ]);
    // A second scrape with nothing new shows the same totals (nothing is added twice).
    expect(await lines('test_request_counter_total')).toEqual([
      'test_request_counter_total{team="alpha",kind="input"} 15',
      'test_request_counter_total{team="beta",kind="output"} 1',
    ]);
    counter.inc(['alpha', 'input'], 2);
    expect(await lines('test_request_counter_total')).toContain(
      'test_request_counter_total{team="alpha",kind="input"} 17',
    );
    registry.removeSingleMetric('test_request_counter_total');
  });

  it('keeps label values apart that would run together if joined naively', async () => {
    const counter = new RequestCounter({
      name: 'test_request_counter_join_total',
      help: 'test',
      labelNames: ['a', 'b'] as const,
    });
    counter.inc(['x,y', 'z']);
    counter.inc(['x', 'y,z']);
    expect(await lines('test_request_counter_join_total')).toEqual([
      'test_request_counter_join_total{a="x,y",b="z"} 1',
      'test_request_counter_join_total{a="x",b="y,z"} 1',
    ]);
    registry.removeSingleMetric('test_request_counter_join_total');
  });
});
