/**
 * Lookups in config records (presets, `routing.fallbacks`) by names a client sends. A plain `record[name]`
 * answers `constructor`, `__proto__` or `toString` from Object.prototype, so a client could name a
 * "preset" nobody configured; only the record's own entries count here.
 */

/** The record's own entry for a name, or undefined (never an inherited Object.prototype member). */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined;
}

const copies = new WeakMap<object, Readonly<Record<string, unknown>>>();

/**
 * A prototype-free copy of a config record, made once per record, for code that indexes it directly
 * (the router reads `routing.fallbacks[id]`).
 */
export function ownRecord<T>(record: Readonly<Record<string, T>>): Readonly<Record<string, T>> {
  let copy = copies.get(record);
  if (!copy) {
    copy = Object.assign(Object.create(null) as Record<string, T>, record);
    copies.set(record, copy);
  }
  return copy as Readonly<Record<string, T>>;
}
