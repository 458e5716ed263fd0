import { randomUUID } from 'node:crypto';

/**
 * A request's id: 32 hex digits, the first 12 the millisecond clock, the other 20 random (80 bits).
 * Ids that grow with time are appended at one end of the indexes keyed by them (the request log's,
 * learning's subjects'); random ones made every insert touch a page of its own, which under load
 * missed SQLite's cache on most rows and cost the request path several microseconds each.
 */
export function newRequestId(): string {
  const random = randomUUID(); // 8-4-4-4-12: the first 8 and the last 12 digits are all random
  return Date.now().toString(16).padStart(12, '0') + random.slice(0, 8) + random.slice(24);
}
