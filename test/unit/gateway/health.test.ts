import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../../routing/types.ts';
import { deploymentKey, HealthTracker } from '../../../src/gateway/deployments/index.ts';

function spec(id = 'gpt-mini', provider = 'openai'): ModelSpec {
  return {
    id,
    provider,
    upstream: id,
    context_window: 1000,
    max_output_tokens: 100,
    price: { input: 1, output: 2 },
    capabilities: [],
    quality: { general: 0.5, code: 0.5, math: 0.5, reasoning: 0.5, writing: 0.5 },
    aliases: [],
    weight: 1,
  };
}

function setup(options: { alpha?: number } = {}) {
  const clock = { t: 1_000_000 };
  const health = new HealthTracker({ now: () => clock.t, cooldownMs: 30_000, windowMs: 60_000, ...options });
  const s = spec();
  const call = (ok: boolean, latencyMs = 100) => {
    expect(health.begin(s)).toBe(true);
    if (ok) health.succeed(s, latencyMs);
    else health.fail(s);
  };
  const circuit = () => health.view(s)?.circuit;
  return { clock, health, s, call, circuit };
}

describe('deploymentKey', () => {
  it('names provider and model, so the same model on two providers is tracked apart', () => {
    expect(deploymentKey(spec('gpt-mini', 'azure'))).toBe('azure/gpt-mini');
    expect(deploymentKey(spec('gpt-mini', 'openai'))).not.toBe(deploymentKey(spec('gpt-mini', 'azure')));
  });
});

describe('HealthTracker', () => {
  it('knows nothing about a deployment that was never called', () => {
    const { health, s } = setup();
    expect(health.view(s)).toBeUndefined();
  });

  it('opens the circuit after 3 consecutive failures and refuses calls', () => {
    const { health, s, call, circuit } = setup();
    call(false);
    call(false);
    expect(circuit()).toBe('closed');
    call(false);
    expect(circuit()).toBe('open');
    expect(health.begin(s)).toBe(false);
  });

  it('a success in between resets the consecutive count', () => {
    const { call, circuit } = setup();
    for (let i = 0; i < 4; i++) call(true); // keeps the window's error ratio under half
    call(false);
    call(false);
    call(true);
    call(false);
    call(false);
    expect(circuit()).toBe('closed'); // 4 of 9 failed, never 3 in a row
  });

  it('opens at more than half of at least 5 calls in the window failing, not at 4 calls', () => {
    const { call, circuit } = setup();
    // F S F S: 50% of 4 calls, never 3 in a row.
    call(false);
    call(true);
    call(false);
    call(true);
    expect(circuit()).toBe('closed');
    call(false); // 3 of 5 = 60%
    expect(circuit()).toBe('open');
  });

  it('does not open at exactly half', () => {
    const { call, circuit } = setup();
    for (const ok of [true, false, true, false, true, false]) call(ok); // 3 of 6
    expect(circuit()).toBe('closed');
  });

  it('lets old failures age out of the window', () => {
    const { clock, call, circuit } = setup();
    call(false);
    call(true);
    call(false);
    call(true);
    clock.t += 61_000; // the four calls above are now older than the window
    call(false); // 1 of 1 in the window, and not 3 in a row
    call(true);
    call(false);
    call(true);
    expect(circuit()).toBe('closed');
  });

  it('turns half-open after the cooldown and admits exactly one probe', () => {
    const { clock, health, s, call, circuit } = setup();
    for (let i = 0; i < 3; i++) call(false);
    clock.t += 29_999;
    expect(circuit()).toBe('open');
    expect(health.begin(s)).toBe(false);
    clock.t += 1;
    expect(circuit()).toBe('half_open');
    expect(health.begin(s)).toBe(true);
    expect(health.begin(s)).toBe(false);
    expect(health.view(s)?.inFlight).toBe(1);
  });

  it('closes on a probe success, with the old failures forgotten', () => {
    const { clock, health, s, call, circuit } = setup();
    for (let i = 0; i < 3; i++) call(false);
    clock.t += 30_000;
    expect(health.begin(s)).toBe(true);
    health.succeed(s, 50);
    expect(circuit()).toBe('closed');
    // Needs 3 fresh consecutive failures to open again, not 1.
    call(false);
    call(false);
    expect(circuit()).toBe('closed');
    expect(health.begin(s)).toBe(true);
    expect(health.begin(s)).toBe(true);
  });

  it('re-opens for another full cooldown on a probe failure', () => {
    const { clock, health, s, call, circuit } = setup();
    for (let i = 0; i < 3; i++) call(false);
    clock.t += 30_000;
    expect(health.begin(s)).toBe(true);
    clock.t += 5_000; // the probe takes 5 s to fail
    health.fail(s);
    expect(circuit()).toBe('open');
    clock.t += 29_999;
    expect(health.begin(s)).toBe(false);
    clock.t += 1;
    expect(health.begin(s)).toBe(true);
  });

  it('a call that started before the circuit opened cannot close it by finishing while open', () => {
    const { health, s, call, circuit } = setup();
    expect(health.begin(s)).toBe(true); // slow call, still running
    for (let i = 0; i < 3; i++) call(false);
    health.succeed(s, 9_000);
    expect(circuit()).toBe('open');
  });

  it('a probe released without a verdict lets the next caller probe', () => {
    const { clock, health, s, call, circuit } = setup();
    for (let i = 0; i < 3; i++) call(false);
    clock.t += 30_000;
    expect(health.begin(s)).toBe(true);
    health.release(s);
    expect(circuit()).toBe('half_open');
    expect(health.begin(s)).toBe(true);
  });

  it('moves the latency EWMA by alpha toward each answered latency', () => {
    const { health, s, call } = setup({ alpha: 0.5 });
    call(true, 100);
    expect(health.view(s)?.latencyMs).toBe(100);
    call(true, 200);
    expect(health.view(s)?.latencyMs).toBe(150);
    call(false); // failures have no answer latency
    expect(health.view(s)?.latencyMs).toBe(150);
  });

  it('moves the error-rate EWMA up on failures and back down on successes', () => {
    const { health, s, call } = setup();
    call(true);
    expect(health.view(s)?.errorRate).toBe(0);
    call(false);
    expect(health.view(s)?.errorRate).toBeCloseTo(0.2);
    call(false);
    expect(health.view(s)?.errorRate).toBeCloseTo(0.36);
    call(true);
    expect(health.view(s)?.errorRate).toBeCloseTo(0.288);
  });

  it('counts calls in flight from begin to their end', () => {
    const { health, s } = setup();
    health.begin(s);
    health.begin(s);
    health.begin(s);
    expect(health.view(s)?.inFlight).toBe(3);
    health.succeed(s, 10);
    health.fail(s);
    expect(health.view(s)?.inFlight).toBe(1);
    health.release(s);
    expect(health.view(s)?.inFlight).toBe(0);
    health.release(s); // an extra end never drives it negative
    expect(health.view(s)?.inFlight).toBe(0);
  });

  it('does not count a released call as a failure', () => {
    const { health, s, circuit } = setup();
    for (let i = 0; i < 10; i++) {
      expect(health.begin(s)).toBe(true);
      health.release(s);
    }
    expect(circuit()).toBe('closed');
    expect(health.view(s)?.errorRate).toBe(0);
  });

  it('tracks deployments independently', () => {
    const { health, call } = setup();
    const other = spec('gpt-mini', 'azure');
    for (let i = 0; i < 3; i++) call(false);
    expect(health.begin(other)).toBe(true);
    expect(health.view(other)?.circuit).toBe('closed');
  });
});
