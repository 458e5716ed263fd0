/**
 * The catalog by name. Held in a Map, not an object, so a client-sent name such as `constructor` or
 * `__proto__` finds nothing rather than something inherited.
 */
import type { ModelSpec } from '../../../routing/types.ts';

/** Name → deployments lookup over the catalog; several entries may share an id (load balancing). */
export class ModelTable {
  readonly models: readonly ModelSpec[];
  private readonly byName = new Map<string, ModelSpec[]>();

  constructor(models: readonly ModelSpec[]) {
    this.models = models;
    for (const m of models) this.add(m.id, m);
    for (const m of models) for (const alias of m.aliases) this.add(alias, m);
  }

  private add(name: string, spec: ModelSpec) {
    const list = this.byName.get(name);
    if (!list) this.byName.set(name, [spec]);
    else if (!list.includes(spec)) list.push(spec);
  }

  /** Every deployment serving a name (id or alias); empty when unknown. */
  resolve(name: string): readonly ModelSpec[] {
    return this.byName.get(name) ?? [];
  }

  /** Distinct catalog ids, in table order. */
  ids(): string[] {
    return [...new Set(this.models.map((m) => m.id))];
  }
}
