/**
 * Bounds on what an upstream may make the gateway hold, shared by every HTTP client here (the SDKs'
 * fetch and the OpenAI-compatible pool): whatever a provider sends, memory stays bounded.
 */

/**
 * How long a kept-alive connection may sit idle before we close it ourselves. A server closes idle
 * connections on its own timer (Node's default is 5 s); a request sent on one it has just closed fails
 * with ECONNRESET and would count against the provider. Closing first avoids that race. (Retrying such
 * a request instead is unsafe here: a server that took the request and then reset looks the same, and
 * the call would be paid twice.) With a shorter `Keep-Alive: timeout=` hint from the server, the client
 * closes a second before the hint instead.
 */
export const IDLE_SOCKET_MS = 4_000;

/** An SSE line longer than this is no event a provider sends; buffering it would only exhaust memory. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** A whole (non-streamed) answer larger than this is refused for the same reason. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;
/**
 * All whole answers being read at once hold at most this much: each is bounded, but a dozen large ones
 * together would exhaust the heap and end the process. A call that would pass it fails as a broken
 * connection (the upstream's failure, with a fallback), and the others go on.
 */
export const MAX_BUFFERED_BYTES = 512 * 1024 * 1024;

/** Bytes of whole answers being read right now, across every call of every client. */
let buffered = 0;

/**
 * Why `bytes` more of an answer already holding `held` may not be kept, or undefined when they may (and
 * are now counted: give them back with releaseBuffered once the answer is read or dropped).
 */
export function claimBuffered(held: number, bytes: number): string | undefined {
  if (held + bytes > MAX_BODY_BYTES) return `an answer larger than ${MAX_BODY_BYTES} bytes`;
  if (buffered + bytes > MAX_BUFFERED_BYTES)
    return `answers being read at once would pass ${MAX_BUFFERED_BYTES} bytes`;
  buffered += bytes;
  return undefined;
}

export function releaseBuffered(bytes: number): void {
  buffered -= bytes;
}

/**
 * The length of the line still open after `chunk`, given the length of the one open before it: a line
 * past MAX_LINE_BYTES is refused by the caller. Only `\n` ends a line here (CR-only streams are none a
 * provider sends; one would be refused at the bound, never buffered past it).
 */
export function openLineBytes(before: number, chunk: Uint8Array): number {
  const newline = chunk.lastIndexOf(10);
  return newline < 0 ? before + chunk.byteLength : chunk.byteLength - newline - 1;
}
