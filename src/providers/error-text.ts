/**
 * What of an upstream failure's text may reach a client. Provider messages are passed on (they tell
 * the client what was wrong) but never with credentials: providers quote masked key fragments
 * ("Incorrect API key provided: sk-abc***xyz"), and URLs or headers can carry keys. Text that did not
 * come from the provider (JavaScript errors, socket errors) is replaced by a plain description; its full
 * text goes to the log only.
 */

const REDACTED = '[redacted]';

/** Longest message passed on; provider bodies can be long, and a client needs only the start. */
const MAX_LENGTH = 1_000;

/** Each pattern with what replaces it; `$1` keeps a label such as `Bearer` or `key=`. */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  // Bearer / Basic credentials in quoted headers.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}\**/gi, `$1 ${REDACTED}`],
  // Keys in query strings and key=value text: ?key=…, api_key=…, access_token=…
  [
    /\b((?:api[_-]?key|key|access[_-]?token|token|secret|password)\s*[=:]\s*)["']?[^\s"'&,;]{4,}["']?/gi,
    `$1${REDACTED}`,
  ],
  // OpenAI / Anthropic style keys (sk-…, sk-proj-…, sk-ant-…), our own (qk-…), masked or not.
  [/\b(?:sk|qk|rk|pk)-[A-Za-z0-9_*.…-]{2,}[A-Za-z0-9_*…]/g, REDACTED],
  // Google API keys.
  [/\bAIza[0-9A-Za-z_-]{10,}/g, REDACTED],
  // Any token with a run of mask characters in it (abc***xyz, 1234****5678).
  [/[^\s"'`]*(?:\*{3,}|•{3,})[^\s"'`]*/g, REDACTED],
  // Long opaque tokens: JWTs, and hex or base64 strings of 40+ characters mixing letters and digits.
  [/\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]{10,})?\b/g, REDACTED],
  [/\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{40,}\b/g, REDACTED],
];

/**
 * The text with anything that looks like a credential replaced by `[redacted]`.
 *
 * @example
 * redactSecrets('Incorrect API key provided: sk-abc***xyz.') // 'Incorrect API key provided: [redacted].'
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A field of a provider's error body as text. The body is the provider's JSON, not its documentation:
 * a `message` can arrive as an object, an array or null, and string methods on it would throw inside
 * the gateway, turning the provider's answer into an internal error (a 400 into a 502, a 503 that
 * never counts against the deployment).
 */
export function providerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Nested past the stack, or otherwise unprintable: the provider said nothing readable.
    return 'an unreadable error message';
  }
}

/** A provider's error code as the error body's `code` (a string, or null): numbers kept as text, shapes dropped. */
export function providerCode(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A provider's own message, fit to pass on: secrets redacted, whitespace tidied, length capped. */
export function safeProviderMessage(message: unknown): string {
  const tidy = redactSecrets(providerText(message)).replace(/\s+/g, ' ').trim();
  return tidy.length > MAX_LENGTH ? `${tidy.slice(0, MAX_LENGTH)}…` : tidy;
}

/** The text of an error the gateway itself raised, for the log only: redacted and capped, never a stack. */
export function internalDetail(err: unknown): string {
  const parts: string[] = [];
  for (
    let e = err, i = 0;
    e !== undefined && e !== null && i < 5;
    e = (e as { cause?: unknown }).cause, i++
  ) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  return safeProviderMessage(parts.join(' <- '));
}
