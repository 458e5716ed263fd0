/**
 * One instance's picture of what was learnt: the evidence per model and category (the store's at the
 * last refresh plus what this instance observed since), the operator's freeze, and the catalog as the
 * router scores it — the same specs with each quality replaced by its effective value. That table is
 * rebuilt whole at a refresh (decay moves every estimate) and copied-on-write for one model when an
 * observation changes it, so the router reads a ready array on every request.
 */
import { CATEGORIES, type Category, type ModelSpec } from '../../routing/types.ts';
import type { QualityEstimate } from '../gateway/index.ts';
import { type Evidence, estimate, type LearningSettings, withObservation } from './estimate.ts';

export interface StoredEvidence {
  model: string;
  category: string;
  successes: number;
  trials: number;
  updated_at: number;
}

const isCategory = (c: string): c is Category => (CATEGORIES as readonly string[]).includes(c);

export class QualityBook {
  readonly settings: LearningSettings;
  readonly #catalog: readonly ModelSpec[];
  /** First spec of each id: its quality is the prior shown for the id. */
  readonly #first = new Map<string, ModelSpec>();
  readonly #now: () => number;
  #evidence = new Map<string, Map<Category, Evidence>>();
  #frozenAt: number | null = null;
  #view: ModelSpec[] | null = null;
  readonly #stale = new Set<string>();

  constructor(catalog: readonly ModelSpec[], settings: LearningSettings, now: () => number) {
    this.#catalog = catalog;
    this.settings = settings;
    this.#now = now;
    for (const spec of catalog) if (!this.#first.has(spec.id)) this.#first.set(spec.id, spec);
  }

  get frozenAt(): number | null {
    return this.#frozenAt;
  }

  knows(model: string): boolean {
    return this.#first.has(model);
  }

  /** While frozen, estimates are read as of the freeze: nothing decays, nothing is added. */
  #time(): number {
    return this.#frozenAt ?? this.#now();
  }

  /** Adds one observation; false when it was not counted (frozen, or a model the catalog lacks). */
  observe(model: string, category: Category, value: number, weight = 1): boolean {
    if (this.#frozenAt !== null || !this.#first.has(model)) return false;
    let byCategory = this.#evidence.get(model);
    if (!byCategory) {
      byCategory = new Map();
      this.#evidence.set(model, byCategory);
    }
    const now = this.#now();
    byCategory.set(
      category,
      withObservation(byCategory.get(category), value, weight, now, this.settings.halfLifeMs),
    );
    this.#stale.add(model);
    return true;
  }

  /** The store's evidence replaces this instance's (what is still unwritten is observed again after). */
  replace(rows: readonly StoredEvidence[], frozenAt: number | null): void {
    const evidence = new Map<string, Map<Category, Evidence>>();
    for (const r of rows) {
      if (!this.#first.has(r.model) || !isCategory(r.category)) continue;
      let byCategory = evidence.get(r.model);
      if (!byCategory) {
        byCategory = new Map();
        evidence.set(r.model, byCategory);
      }
      byCategory.set(r.category, { successes: r.successes, trials: r.trials, at: r.updated_at });
    }
    this.#evidence = evidence;
    this.#frozenAt = frozenAt;
    this.#view = null;
  }

  /** Forgets one model's evidence, or every model's (`null`). */
  reset(model: string | null): void {
    if (model === null) this.#evidence.clear();
    else this.#evidence.delete(model);
    this.#view = null;
  }

  freeze(at: number): void {
    this.#frozenAt ??= at;
    this.#view = null;
  }

  /** Evidence times move on by the frozen span, as the store's do. */
  unfreeze(at: number): void {
    if (this.#frozenAt === null) return;
    const held = Math.max(0, at - this.#frozenAt);
    for (const byCategory of this.#evidence.values()) {
      for (const [c, e] of byCategory) byCategory.set(c, { ...e, at: e.at + held });
    }
    this.#frozenAt = null;
    this.#view = null;
  }

  /** One model's estimates by category (its first deployment's catalog quality is the prior). */
  estimates(model: string): Record<Category, QualityEstimate> | undefined {
    const spec = this.#first.get(model);
    if (!spec) return undefined;
    return this.#estimates(spec, this.#time());
  }

  #estimates(spec: ModelSpec, now: number): Record<Category, QualityEstimate> {
    const byCategory = this.#evidence.get(spec.id);
    const out = {} as Record<Category, QualityEstimate>;
    for (const c of CATEGORIES) out[c] = estimate(spec.quality[c], byCategory?.get(c), this.settings, now);
    return out;
  }

  /** The catalog with effective qualities, same specs in the same order (a spec nothing was learnt about is itself). */
  models(): readonly ModelSpec[] {
    if (this.#view === null) {
      const now = this.#time();
      this.#view = this.#catalog.map((spec) => this.#effective(spec, now));
      this.#stale.clear();
    } else if (this.#stale.size) {
      const now = this.#time();
      const view = this.#view.slice();
      for (let i = 0; i < view.length; i++) {
        const spec = this.#catalog[i]!;
        if (this.#stale.has(spec.id)) view[i] = this.#effective(spec, now);
      }
      this.#stale.clear();
      this.#view = view;
    }
    return this.#view;
  }

  #effective(spec: ModelSpec, now: number): ModelSpec {
    if (!this.#evidence.has(spec.id)) return spec;
    const estimates = this.#estimates(spec, now);
    const quality = {} as Record<Category, number>;
    let changed = false;
    for (const c of CATEGORIES) {
      quality[c] = estimates[c].effective;
      if (quality[c] !== spec.quality[c]) changed = true;
    }
    return changed ? { ...spec, quality } : spec;
  }
}
