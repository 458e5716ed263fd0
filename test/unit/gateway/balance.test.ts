import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../../routing/types.ts';
import { type Deployment, HealthTracker, orderDeployments } from '../../../src/gateway/deployments/index.ts';

function dep(provider: string, weight = 1): Deployment {
  const spec: ModelSpec = {
    id: 'gpt-mini',
    provider,
    upstream: 'gpt-mini',
    context_window: 1000,
    max_output_tokens: 100,
    price: { input: 1, output: 2 },
    capabilities: [],
    quality: { general: 0.5, code: 0.5, math: 0.5, reasoning: 0.5, writing: 0.5 },
    aliases: [],
    weight,
  };
  // Balancing reads only the spec; the provider and adapter are never touched.
  return { spec, provider: { id: provider }, adapter: {} } as unknown as Deployment;
}

/** mulberry32: a tiny seeded PRNG with values in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function firstPicks(deps: Deployment[], health: HealthTracker, n: number, seed = 42): Map<string, number> {
  const pick = seeded(seed);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const first = orderDeployments(deps, health, pick)[0]!.spec.provider;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return counts;
}

function openCircuit(health: HealthTracker, d: Deployment): void {
  for (let i = 0; i < 3; i++) {
    health.begin(d.spec);
    health.fail(d.spec);
  }
}

describe('orderDeployments', () => {
  it('returns a single deployment as is', () => {
    const only = dep('openai');
    expect(orderDeployments([only], new HealthTracker(), () => 0.99)).toEqual([only]);
  });

  it('spreads first picks by weight: 3:1 gives about 75/25', () => {
    const counts = firstPicks([dep('openai', 3), dep('azure', 1)], new HealthTracker(), 4000);
    const share = (counts.get('openai') ?? 0) / 4000;
    expect(share).toBeGreaterThan(0.72);
    expect(share).toBeLessThan(0.78);
  });

  it('always lists every deployment once, the rest by weight after the pick', () => {
    const a = dep('a', 1);
    const b = dep('b', 5);
    const c = dep('c', 2);
    // pick 0 lands on the first deployment in config order
    expect(orderDeployments([a, b, c], new HealthTracker(), () => 0).map((d) => d.spec.provider)).toEqual([
      'a',
      'b',
      'c',
    ]);
    // pick 0.99 lands on the last
    expect(orderDeployments([a, b, c], new HealthTracker(), () => 0.99).map((d) => d.spec.provider)).toEqual([
      'c',
      'b',
      'a',
    ]);
  });

  it('shifts traffic away from a deployment with calls in flight', () => {
    const openai = dep('openai');
    const azure = dep('azure');
    const health = new HealthTracker();
    for (let i = 0; i < 3; i++) health.begin(openai.spec); // 3 in flight: score 1/4 against 1/1
    const counts = firstPicks([openai, azure], health, 4000);
    const share = (counts.get('openai') ?? 0) / 4000;
    expect(share).toBeGreaterThan(0.17);
    expect(share).toBeLessThan(0.23);
    // and the loaded one is the second choice
    expect(orderDeployments([openai, azure], health, () => 0.99).map((d) => d.spec.provider)).toEqual([
      'azure',
      'openai',
    ]);
  });

  it('never picks an open circuit first while another deployment is usable; it goes last', () => {
    const heavy = dep('heavy', 100);
    const light = dep('light', 1);
    const health = new HealthTracker();
    openCircuit(health, heavy);
    const counts = firstPicks([heavy, light], health, 500);
    expect(counts.get('heavy')).toBeUndefined();
    expect(orderDeployments([heavy, light], health, () => 0).map((d) => d.spec.provider)).toEqual([
      'light',
      'heavy',
    ]);
  });

  it('keeps config order when every circuit is open, leaving admission to the breaker', () => {
    const a = dep('a', 1);
    const b = dep('b', 9);
    const health = new HealthTracker();
    openCircuit(health, a);
    openCircuit(health, b);
    expect(orderDeployments([a, b], health, () => 0.99)).toEqual([a, b]);
  });

  it('gives a half-open deployment its normal share, so it can be probed', () => {
    let t = 0;
    const health = new HealthTracker({ now: () => t, cooldownMs: 1000 });
    const a = dep('a');
    const b = dep('b');
    openCircuit(health, a);
    t = 1000;
    expect(health.view(a.spec)?.circuit).toBe('half_open');
    expect(orderDeployments([a, b], health, () => 0)[0]).toBe(a);
  });
});
