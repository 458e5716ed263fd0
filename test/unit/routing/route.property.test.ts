import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exclusionReason } from '../../../routing/filter.ts';
import { route } from '../../../routing/route.ts';
import type {
  DeploymentHealth,
  HealthView,
  RouteOptions,
  TaskProfile,
} from '../../../routing/route-types.ts';
import {
  CAPABILITIES,
  CATEGORIES,
  type Capability,
  type Category,
  type ModelSpec,
  type Policy,
} from '../../../routing/types.ts';

const POLICIES: readonly Policy[] = ['cost', 'balanced', 'quality', 'latency'];

const unit = fc.double({ min: 0, max: 1, noNaN: true });
/** Prices with plenty of exact zeros (free models) and ties. */
const price = fc.oneof(
  fc.constant(0),
  fc.constantFrom(0.1, 0.5, 1, 2, 10),
  fc.double({ min: 0, max: 100, noNaN: true }),
);
/**
 * A model's qualities: a level (0.3..1, often a round value so ties happen) plus a small per-category
 * spread, so that models clear or miss the bar the way real ones do rather than all sitting near 0.5.
 */
const qualities = fc
  .tuple(
    fc.oneof(fc.double({ min: 0.3, max: 1, noNaN: true }), fc.constantFrom(0.5, 0.7, 0.9)),
    fc.tuple(...CATEGORIES.map(() => fc.double({ min: -0.1, max: 0.1, noNaN: true }))),
  )
  .map(([level, spread]) => {
    const q = {} as Record<Category, number>;
    CATEGORIES.forEach((c, i) => {
      q[c] = Math.min(1, Math.max(0, level + spread[i]!));
    });
    return q;
  });

const specArb = (i: number) =>
  fc
    .record({
      price: fc.record({ input: price, output: price }),
      quality: qualities,
      capabilities: fc.oneof(
        { weight: 3, arbitrary: fc.constant<Capability[]>([...CAPABILITIES]) },
        fc.subarray([...CAPABILITIES]),
      ),
      context_window: fc.oneof(
        fc.integer({ min: 1_000, max: 2_000_000 }),
        fc.constantFrom(128_000, 1_000_000),
      ),
      max_output_tokens: fc.integer({ min: 256, max: 200_000 }),
      hasAlias: fc.boolean(),
    })
    .map(
      ({ hasAlias, ...r }): ModelSpec => ({
        id: `m${i}`,
        provider: 'p',
        upstream: `m${i}`,
        aliases: hasAlias ? [`alias${i}`] : [],
        weight: 1,
        ...r,
      }),
    );

const catalogArb = fc
  .integer({ min: 2, max: 12 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => specArb(i))));

const taskArb: fc.Arbitrary<TaskProfile> = fc
  .record({
    raw: fc.tuple(unit, unit, unit, unit, unit),
    difficulty: fc.oneof(unit, fc.double({ min: 0, max: 0.3, noNaN: true })),
    required: fc.oneof(
      { weight: 2, arbitrary: fc.constant<Capability[]>([]) },
      fc.subarray([...CAPABILITIES], { maxLength: 2 }),
    ),
    promptTokens: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 20_000 }) },
      fc.integer({ min: 1, max: 300_000 }),
    ),
    maxOutputTokens: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: null }),
  })
  .map(({ raw, ...t }) => {
    const sum = raw.reduce((a, b) => a + b, 0);
    const categories = {} as Record<Category, number>;
    CATEGORIES.forEach((c, i) => {
      categories[c] = sum > 0 ? raw[i]! / sum : c === 'general' ? 1 : 0;
    });
    return { categories, ...t };
  });

const healthArb = fc.option(
  fc.record({
    latencyMs: fc.option(fc.double({ min: 0, max: 10_000, noNaN: true }), { nil: undefined }),
    errorRate: unit,
    circuit: fc.constantFrom<DeploymentHealth['circuit']>('closed', 'closed', 'closed', 'half_open', 'open'),
    inFlight: fc.nat(50),
  }),
  { nil: undefined },
);

/** Names drawn from the catalog's ids and aliases (and one unknown). */
const namePool = Array.from({ length: 12 }, (_, i) => [`m${i}`, `alias${i}`]).flat();

/** Each restriction is present now and then, so most scenarios still leave several candidates. */
const sometimes = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

const optionsArb: fc.Arbitrary<RouteOptions> = fc
  .record({
    policy: fc.constantFrom(...POLICIES),
    minQuality: sometimes(unit),
    maxCostUsd: sometimes(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5, noNaN: true }))),
    models: sometimes(fc.subarray([...namePool, 'nope'], { minLength: 8 })),
    allowList: sometimes(fc.subarray(namePool, { minLength: 6 }).map((xs) => new Set(xs))),
    fallbacks: sometimes(
      fc.dictionary(fc.constantFrom(...namePool.filter((n) => n.startsWith('m'))), fc.subarray(namePool)),
    ),
  })
  .map((o) => {
    // Drop absent keys, as a caller building options would.
    const out: RouteOptions = { policy: o.policy };
    if (o.minQuality !== undefined) out.minQuality = o.minQuality;
    if (o.maxCostUsd !== undefined) out.maxCostUsd = o.maxCostUsd;
    if (o.models !== undefined) out.models = o.models;
    if (o.allowList !== undefined) out.allowList = o.allowList;
    if (o.fallbacks !== undefined) out.fallbacks = o.fallbacks;
    return out;
  });

const scenario = fc.record({
  catalog: catalogArb,
  task: taskArb,
  health: fc.array(healthArb, { minLength: 12, maxLength: 12 }),
  options: optionsArb,
});

const view =
  (health: (DeploymentHealth | undefined)[]): HealthView =>
  (spec) =>
    health[Number(spec.id.slice(1))];

const RUNS = { numRuns: 400 };
const small = fc.double({ min: 0, max: 0.3, noNaN: true });

describe('route properties', () => {
  it('never picks an excluded model; chosen is null iff no candidate is eligible', () => {
    fc.assert(
      fc.property(scenario, ({ catalog, task, health, options }) => {
        const plan = route(catalog, task, view(health), options);
        const limits = {
          models: options.models ? new Set(options.models) : null,
          allowList: options.allowList ?? null,
          maxCostUsd: options.maxCostUsd,
        };
        const eligible = catalog.filter(
          (m) => exclusionReason(m, task, limits, view(health)(m)) === undefined,
        );
        expect(plan.chosen === null).toBe(eligible.length === 0);
        expect(plan.candidates.some((c) => c.eligible)).toBe(plan.chosen !== null);
        if (plan.chosen !== null) {
          expect(eligible.map((m) => m.id)).toContain(plan.chosen);
          expect(plan.candidates[0]).toMatchObject({ model: plan.chosen, eligible: true });
        }
        for (const c of plan.candidates) {
          const spec = catalog.find((m) => m.id === c.model)!;
          expect(c.eligible).toBe(eligible.includes(spec));
          if (c.eligible) {
            expect(Number.isFinite(c.scores!.total)).toBe(true);
            expect(c.reason).toBeUndefined();
          } else {
            expect(c.reason).toBeTruthy();
            expect(c.scores).toBeUndefined();
          }
        }
      }),
      RUNS,
    );
  });

  it('lists every id once, ordered; fallbacks are the other eligible ids, each once', () => {
    fc.assert(
      fc.property(scenario, ({ catalog, task, health, options }) => {
        const plan = route(catalog, task, view(health), options);
        const ids = plan.candidates.map((c) => c.model);
        expect([...ids].sort()).toEqual(catalog.map((m) => m.id).sort());
        const eligible = plan.candidates.filter((c) => c.eligible);
        const excluded = plan.candidates.filter((c) => !c.eligible);
        expect(plan.candidates).toEqual([...eligible, ...excluded]);
        for (let i = 1; i < eligible.length; i++) {
          expect(eligible[i]!.scores!.total).toBeLessThanOrEqual(eligible[i - 1]!.scores!.total);
        }
        const excludedIds = excluded.map((c) => c.model);
        expect(excludedIds).toEqual([...excludedIds].sort());
        expect(new Set(plan.fallbacks).size).toBe(plan.fallbacks.length);
        expect([...plan.fallbacks].sort()).toEqual(
          eligible
            .slice(1)
            .map((c) => c.model)
            .sort(),
        );
      }),
      RUNS,
    );
  });

  it('gives identical plans for identical inputs, and the same plan for any catalog order', () => {
    fc.assert(
      fc.property(scenario, fc.func(fc.integer()), ({ catalog, task, health, options }, key) => {
        const plan = route(catalog, task, view(health), options);
        expect(route(catalog, task, view(health), options)).toEqual(plan);
        const shuffled = [...catalog].sort((a, b) => key(a.id) - key(b.id));
        expect(route(shuffled, task, view(health), options)).toEqual(plan);
      }),
      RUNS,
    );
  });

  it('raising a model price never makes it the choice when it was not (every policy)', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.nat(),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.constantFrom(...POLICIES),
        ({ catalog, task, health, options }, pick, dIn, dOut, policy) => {
          fc.pre(dIn > 0 || dOut > 0);
          const k = pick % catalog.length;
          const o = { ...options, policy };
          const before = route(catalog, task, view(health), o).chosen;
          const target = catalog[k]!;
          const pricier = catalog.map((m, i) =>
            i === k ? { ...m, price: { input: m.price.input + dIn, output: m.price.output + dOut } } : m,
          );
          const after = route(pricier, task, view(health), o).chosen;
          if (before !== target.id) expect(after).not.toBe(target.id);
        },
      ),
      RUNS,
    );
  });

  it('raising a model quality never makes it lose the choice when it had it (every policy)', () => {
    fc.assert(
      fc.property(
        scenario,
        fc.record({ general: small, code: small, math: small, reasoning: small, writing: small }),
        fc.constantFrom(...POLICIES),
        ({ catalog, task, health, options }, delta, policy) => {
          const o = { ...options, policy };
          const before = route(catalog, task, view(health), o).chosen;
          fc.pre(before !== null);
          const k = catalog.findIndex((m) => m.id === before);
          const better = catalog.map((m, i) => {
            if (i !== k) return m;
            const quality = { ...m.quality };
            for (const c of CATEGORIES) quality[c] = Math.min(1, quality[c] + delta[c]);
            return { ...m, quality };
          });
          expect(route(better, task, view(health), o).chosen).toBe(before);
        },
      ),
      RUNS,
    );
  });

  it('lowering a model price never makes it lose the choice when it had it (every policy)', () => {
    fc.assert(
      fc.property(
        scenario,
        unit,
        unit,
        fc.constantFrom(...POLICIES),
        ({ catalog, task, health, options }, fIn, fOut, policy) => {
          const o = { ...options, policy };
          const before = route(catalog, task, view(health), o).chosen;
          fc.pre(before !== null);
          const cheaper = catalog.map((m) =>
            m.id === before
              ? { ...m, price: { input: m.price.input * fIn, output: m.price.output * fOut } }
              : m,
          );
          expect(route(cheaper, task, view(health), o).chosen).toBe(before);
        },
      ),
      RUNS,
    );
  });
});
