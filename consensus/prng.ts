/**
 * Seeded randomness. Strategies must be reproducible — the same inputs and seed give the same judge
 * order and fence tokens — so nothing here touches Math.random or the clock.
 */

/** mulberry32: a tiny 32-bit PRNG, plenty for shuffling a handful of candidates. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over a string: mixes content into a seed so fence tokens differ per call. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Fisher–Yates with a seeded source; returns a new array. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A random-looking token (e.g. `QF-7K2M9XQ4B1`) for delimiting untrusted text in a prompt. */
export function fenceToken(random: () => number): string {
  let s = 'QF-';
  for (let i = 0; i < 10; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return s;
}

/** The default seed: fixed, so an unseeded request is still reproducible. */
export const DEFAULT_SEED = 0x5eed;
