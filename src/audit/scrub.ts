/**
 * What keeps secrets out of the audit log: fields whose name says secret are dropped, and any string
 * that holds a known secret (the master key, a static key, a webhook secret) or looks like a Quorum
 * key (`qk-…`) is replaced. A defence behind the routes, which never pass a secret in the first place.
 */

export const REDACTED = '[redacted]';

/** Field names that only ever hold secrets. */
const SECRET_FIELD = /^(key|secret|api_?key|token|password|authorization|pepper|key_hash)$/i;
/** A key the admin API or the CLI made: `qk-` and 43 base64url characters. */
const QUORUM_KEY = /qk-[A-Za-z0-9_-]{20,}/g;
/** Known secrets shorter than this are not searched for (they would match ordinary words). */
const MIN_SECRET = 8;

/** A copy of `value` without secrets. */
export function scrub(value: unknown, secrets: readonly string[] = []): unknown {
  const known = secrets.filter((s) => s.length >= MIN_SECRET);
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') {
      let out = v.replace(QUORUM_KEY, REDACTED);
      for (const s of known) if (out.includes(s)) out = out.split(s).join(REDACTED);
      return out;
    }
    if (v === null || typeof v !== 'object' || depth > 8)
      return typeof v === 'object' && v !== null ? REDACTED : v;
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) {
      if (item === undefined) continue;
      out[k] = SECRET_FIELD.test(k) ? REDACTED : walk(item, depth + 1);
    }
    return out;
  };
  return walk(value, 0);
}
