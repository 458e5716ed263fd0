/**
 * Webhook signatures, as Stripe signs its webhooks: `x-quorum-signature: t=<unix seconds>,v1=<hex>`,
 * where the hex is HMAC-SHA256 of `<t>.<raw body>` keyed with the webhook's secret. The timestamp is
 * signed with the body, so a receiver that refuses old timestamps refuses a replayed request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-quorum-signature';

/** How far a receiver should accept a timestamp from its own clock, in seconds (Stripe's default). */
export const DEFAULT_TOLERANCE_S = 300;

const hmac = (secret: string, timestamp: number, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

/** The header value for `body` sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;
}

/**
 * Whether a header signs this body with this secret and its timestamp is within `toleranceS` of
 * `nowS`. Compares in constant time; any `v1` may match (a sender may sign with several secrets).
 */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  options: { nowS?: number; toleranceS?: number } = {},
): boolean {
  if (!header) return false;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isSafeInteger(t)) return false;
  const now = options.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceS ?? DEFAULT_TOLERANCE_S)) return false;
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  return parts.some(([k, v]) => {
    if (k !== 'v1' || !v || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, 'hex'), expected);
  });
}
