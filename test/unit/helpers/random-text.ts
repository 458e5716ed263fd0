/**
 * Reproducible random text for property tests of code that writes or reads JSON: every class of
 * character JSON escapes, encodes or may choke on (quotes, backslashes, control characters, line
 * separators, astral and lone surrogates, brackets), from a seeded generator so a failure can be
 * replayed.
 */

/** A generator of numbers in [0, 1) from `seed`: the same sequence for the same seed. */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

export const JSON_HOSTILE = [
  'a',
  'Z',
  ' ',
  '"',
  '\\',
  '/',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  '中',
  '😀',
  '\u2028',
  '\u2029',
  '\ud800',
  '\udfff',
  '<',
  '{',
  '}',
  '[',
  ']',
  ',',
  '0',
];

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Up to `max` characters drawn from JSON_HOSTILE. */
export function randomText(random: () => number, max = 16): string {
  let out = '';
  const n = Math.floor(random() * max);
  for (let i = 0; i < n; i++) out += pick(random, JSON_HOSTILE);
  return out;
}

/** `text` with one character inserted, removed or replaced at random. */
export function damaged(random: () => number, text: string): string {
  const at = Math.floor(random() * text.length);
  const piece = pick(random, JSON_HOSTILE);
  const how = random();
  if (how < 0.33) return text.slice(0, at) + piece + text.slice(at);
  if (how < 0.66) return text.slice(0, at) + text.slice(at + 1);
  return text.slice(0, at) + piece + text.slice(at + 1);
}
