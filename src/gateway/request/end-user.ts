/**
 * The end user a request names — the customer of the app calling the gateway, not the key's holder:
 * `user` in OpenAI bodies (chat completions, consensus, reviews, responses, embeddings) and
 * `metadata.user_id` on Anthropic Messages. Read once per request; the ledger records it on every call.
 */

/** Longest end user kept; anything longer is cut there (Anthropic's own bound for `metadata.user_id`). */
export const MAX_END_USER = 256;

function clip(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const clean = value.includes('\0') ? value.replaceAll('\0', '') : value;
  if (clean === '') return null;
  return clean.length > MAX_END_USER ? clean.slice(0, MAX_END_USER) : clean;
}

/** `user` (a string), else `metadata.user_id`; null when the body names no end user. */
export function endUserOf(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { user?: unknown; metadata?: unknown };
  const user = clip(b.user);
  if (user !== null) return user;
  const metadata = b.metadata as { user_id?: unknown } | null | undefined;
  return metadata && typeof metadata === 'object' ? clip(metadata.user_id) : null;
}
