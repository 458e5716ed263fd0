import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestCounter, RequestHistogram, registry } from '../../../src/telemetry/metrics.ts';

/** The exposition lines of one metric, as a scrape of GET /metrics returns them. */
async function lines(name: string): Promise<string[]> {
  return (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => l.startsWith(name));
}

/** A counter labelled `a` and `b`. */
const twoLabels = (name: string) =>
  new RequestCounter({ name, help: 'test', labelNames: ['a', 'b'] as const });

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
    const counter = twoLabels('test_request_counter_join_total');
    counter.inc(['x,y', 'z']);
    counter.inc(['x', 'y,z']);
    counter.inc(['p\u0000q', 'r']);
    counter.inc(['p', 'q\u0000r']);
    expect(await lines('test_request_counter_join_total')).toEqual([
      'test_request_counter_join_total{a="x,y",b="z"} 1',
      'test_request_counter_join_total{a="x",b="y,z"} 1',
      'test_request_counter_join_total{a="p\u0000q",b="r"} 1',
      'test_request_counter_join_total{a="p",b="q\u0000r"} 1',
    ]);
    registry.removeSingleMetric('test_request_counter_join_total');
  });

  it('refuses a call with more or fewer values than labels, counting nothing for it', async () => {
    const counter = twoLabels('test_request_counter_arity_total');
    counter.inc(['x', 'y']);
    expect(() => counter.inc(['x'])).toThrow(/expected 2 label values \(a, b\), got 1/);
    expect(() => counter.inc(['x', 'y', 'z'])).toThrow(/got 3/);
    expect(await lines('test_request_counter_arity_total')).toEqual([
      'test_request_counter_arity_total{a="x",b="y"} 1',
    ]);
    registry.removeSingleMetric('test_request_counter_arity_total');
  });
});

describe('RequestHistogram', () => {
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
  // Values on a bound, between bounds, past the last one, and sums that round in floating point.
  const observed: [string, number][] = [
    ['/v1/chat/completions', 0.0031],
    ['/v1/chat/completions', 0.005],
    ['/v1/chat/completions', 0.0071],
    ['/v1/models', 0.1],
    ['/v1/chat/completions', 0.3],
    ['/v1/chat/completions', 7.25],
    ['/v1/models', 0.0001],
    ['/v1/chat/completions', 0.1 + 0.2],
  ];

  it('exposes exactly what a prom-client Histogram exposes for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const config = { name: 'test_seconds', help: 'Time, by route', labelNames: ['route'] as const, buckets };
    const mine = new RequestHistogram({ ...config, registers: [ours] });
    const reference = new Histogram({ ...config, registers: [theirs] });
    for (const [route, seconds] of observed) {
      mine.observe([route], seconds);
      reference.observe({ route }, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain('test_seconds_bucket{le="0.005",route="/v1/chat/completions"} 2');
    expect(text).toContain('test_seconds_count{route="/v1/chat/completions"} 6');

    // The JSON form too, but for prom-client's exemplar slots (never used here).
    const plain = async (r: Registry) =>
      (await r.getMetricsAsJSON()).flatMap((m) =>
        m.values.map((v) => ({
          labels: v.labels,
          value: v.value,
          name: (v as { metricName?: string }).metricName,
        })),
      );
    expect(await plain(ours)).toEqual(await plain(theirs));

    mine.reset();
    reference.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
