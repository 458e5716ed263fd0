/**
 * Number tokens in prose, for answer extraction. The hard part is what NOT to read as a number:
 * dates (2024-01-05), times (12:30), versions (1.2.3), ranges (3-4), ordinals (42nd), hex (0x1F) and
 * digits glued to identifiers (v2, B2B) are skipped, so "the answer is 2024-01-05" never becomes 2024.
 */

export interface NumberToken {
  value: number;
  /** Index of the token in the searched string. */
  index: number;
  raw: string;
}

// A number: optional minus, digits with optional thousands commas, optional decimals, optional /denominator
// or exponent. Not preceded by a word character, '.', ',', '/', ':' or '-' (so 2024-01 yields neither
// part); not followed by a digit continuation like "-05", ".3", ":30", "/2", nor by an ordinal suffix.
const NUMBER =
  /(?<![\w.,/:-])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\/\d+|e[+-]?\d+)?(?!\d|_|(?:st|nd|rd|th)\b|x[0-9a-f]|[.,/:-]\d)/gi;

export function numberTokens(text: string): NumberToken[] {
  const out: NumberToken[] = [];
  // U+2212 (minus sign) reads as '-'; en/em dashes stay, so "3–4" remains a range.
  const s = text.replace(/\u2212/g, '-');
  for (const m of s.matchAll(NUMBER)) {
    const value = parseNumber(m[0]);
    if (Number.isFinite(value)) out.push({ value, index: m.index, raw: m[0] });
  }
  return out;
}

function parseNumber(raw: string): number {
  const plain = raw.replace(/,/g, '');
  const slash = plain.indexOf('/');
  if (slash < 0) return Number(plain);
  const den = Number(plain.slice(slash + 1));
  return den === 0 ? Number.NaN : Number(plain.slice(0, slash)) / den;
}

/** One key per value: 42, 42.0 and 84/2 all become "42"; float noise (0.1 + 0.2) is rounded away. */
export function canonicalNumber(value: number): string {
  const rounded = Number(value.toPrecision(12));
  return Object.is(rounded, -0) ? '0' : String(rounded);
}
