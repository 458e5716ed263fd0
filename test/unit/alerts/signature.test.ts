/**
 * The webhook signature: what the docs tell a receiver to compute (HMAC-SHA256 of `<t>.<body>`, hex)
 * matches the header, and a changed body, secret or stale timestamp does not verify.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../../src/alerts/index.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const BODY = '{"id":"alt_1","type":"budget.threshold"}';
const T = 1_795_000_000;

describe('webhook signatures', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">, as the docs recipe computes it', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signatureHeader(SECRET, BODY, T)).toBe(`t=${T},v1=${expected}`);
  });

  it('verifies its own header within the tolerance', () => {
    const header = signatureHeader(SECRET, BODY, T);
    expect(verifySignature(SECRET, header, BODY, { nowS: T + 299 })).toBe(true);
    expect(verifySignature(SECRET, header, BODY, { nowS: T - 299 })).toBe(true);
  });

  it('refuses another body, another secret, a stale or future timestamp, and garbage', () => {
    const header = signatureHeader(SECRET, BODY, T);
    expect(verifySignature(SECRET, header, BODY.replace('1', '2'), { nowS: T })).toBe(false);
    expect(verifySignature('another-secret-0123456789', header, BODY, { nowS: T })).toBe(false);
    expect(verifySignature(SECRET, header, BODY, { nowS: T + 301 })).toBe(false);
    expect(verifySignature(SECRET, header, BODY, { nowS: T - 301 })).toBe(false);
    // A replay with a fresh timestamp but the old signature.
    expect(verifySignature(SECRET, header.replace(`t=${T}`, `t=${T + 600}`), BODY, { nowS: T + 600 })).toBe(
      false,
    );
    for (const bad of [undefined, '', 'v1=abc', `t=${T}`, `t=${T},v1=zz`, `t=x,v1=${'0'.repeat(64)}`]) {
      expect(verifySignature(SECRET, bad, BODY, { nowS: T })).toBe(false);
    }
  });
});
