import { randomBytes } from 'node:crypto';

/** Ids whose random part one draw from the system's generator covers (10 bytes each). */
const POOL_IDS = 1024;
let pool = '';
let next = 0;
let lastMs = -1;
let lastMsHex = '';

/**
 * A request's id: 32 hex digits, the first 12 the millisecond clock, the other 20 random (80 bits).
 * Ids that grow with time are appended at one end of the indexes keyed by them (the request log's,
 * learning's subjects'); random ones made every insert touch a page of its own, which under load
 * missed SQLite's cache on most rows and cost the request path several microseconds each. The random
 * digits come from one `randomBytes` draw per 1,024 ids and the clock's digits are formatted once a
 * millisecond: a UUID and its formatting per request cost a microsecond or more.
 */
export function newRequestId(): string {
  if (next >= pool.length) {
    pool = randomBytes(10 * POOL_IDS).toString('hex');
    next = 0;
  }
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastMsHex = now.toString(16).padStart(12, '0');
  }
  const id = lastMsHex + pool.slice(next, next + 20);
  next += 20;
  return id;
}
