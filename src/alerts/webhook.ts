/**
 * One try of one webhook: POST the body, signed, with a deadline. Any 2xx is delivered; anything else
 * (another status, a redirect, a refused connection, the deadline) is a failure to retry. Errors name
 * the status or the socket error, never the URL, which may hold a token.
 */
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';

export interface Webhook {
  name: string;
  url: string;
  secret: string;
}

export type TryResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

const USER_AGENT = 'Quorum-Alerts/1';

/** What went wrong with a fetch, without its URL: `ECONNREFUSED`, `timeout after 10000 ms`, … */
function reason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  return e?.cause?.code ?? e?.name ?? 'request failed';
}

export async function sendWebhook(
  hook: Webhook,
  alertId: string,
  body: string,
  options: { timeoutMs: number; nowMs: number },
): Promise<TryResult> {
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-quorum-alert-id': alertId,
        [SIGNATURE_HEADER]: signatureHeader(hook.secret, body, Math.floor(options.nowMs / 1000)),
      },
      body,
      // A redirect would send the signed body somewhere the operator never named.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, status: null, error: reason(err, options.timeoutMs) };
  }
}
