/**
 * A `fetch` for the provider SDKs (Anthropic, Gemini; OpenAI-compatible calls use pool.ts) on node:http
 * with keep-alive agents. The SDKs accept a custom fetch; the global one (undici's WHATWG fetch) costs
 * about twice as much per call as node:http, and this gateway makes one call per request. Only what the SDKs use is supported: string or byte bodies,
 * an AbortSignal, and a Response whose body streams as it arrives (for SSE). Anything else falls back
 * to the global fetch.
 *
 * Whatever the upstream sends (garbage, a reset, a truncated body, an endless line) and whenever the
 * SDK gives up on the body, nothing here may throw outside the call: node events that arrive after the
 * web stream was cancelled or settled are ignored, and every emitter keeps an 'error' listener for life.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { claimBuffered, IDLE_SOCKET_MS, MAX_LINE_BYTES, openLineBytes, releaseBuffered } from './limits.ts';

export { IDLE_SOCKET_MS, MAX_BODY_BYTES, MAX_BUFFERED_BYTES, MAX_LINE_BYTES } from './limits.ts';

const agentOptions = {
  keepAlive: true,
  keepAliveMsecs: 30_000,
  scheduling: 'lifo',
  timeout: IDLE_SOCKET_MS,
} as const;
const agents = {
  'http:': new http.Agent(agentOptions),
  'https:': new https.Agent(agentOptions),
};

function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof Error && signal.reason.name !== 'TimeoutError'
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}

function headersOf(init: RequestInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const h = init?.headers;
  if (!h) return out;
  if (h instanceof Headers) {
    for (const [k, v] of h) out[k] = v;
  } else if (Array.isArray(h)) for (const [k, v] of h) out[k.toLowerCase()] = v;
  else for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}

function responseHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** The body as a web stream that pauses the socket when the reader falls behind. */
function streamOf(res: IncomingMessage, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  // Once false, the web stream is closed, errored or cancelled: its controller must not be touched.
  let open = true;
  let lineBytes = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (cause?: unknown) => {
        if (!open) return;
        open = false;
        controller.error(signal?.aborted ? abortError(signal) : new TypeError('terminated', { cause }));
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (!open) return;
        lineBytes = openLineBytes(lineBytes, chunk);
        if (lineBytes > MAX_LINE_BYTES)
          return fail(new Error(`an event line longer than ${MAX_LINE_BYTES} bytes`));
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.on('end', () => {
        if (!open) return;
        open = false;
        controller.close();
      });
      res.on('error', fail);
      // Closed before 'end' (a reset, a truncated chunked body, our own abort): the body is cut.
      res.on('close', () => fail(new Error('the connection closed before the body ended')));
    },
    pull() {
      res.resume();
    },
    cancel() {
      open = false;
      res.destroy();
    },
  });
}

export function nodeFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const body = init?.body;
  const simpleBody = body == null || typeof body === 'string' || body instanceof Uint8Array;
  if (input instanceof Request || !simpleBody) return fetch(input, init);
  const url = typeof input === 'string' ? new URL(input) : input;
  const agent = agents[url.protocol as 'http:' | 'https:'];
  if (!agent) return fetch(input, init);
  const signal = init?.signal ?? undefined;

  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const failed = (err?: unknown) =>
      reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
    const headers = headersOf(init);
    if (body != null) headers['content-length'] = String(Buffer.byteLength(body as string | Uint8Array));
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: init?.method ?? 'GET',
      headers,
      agent,
    });
    const onAbort = () => req.destroy(abortError(signal!) as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    // `on`, not `once`: a second 'error' with no listener would take the process down.
    req.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      failed(err);
    });
    req.once('response', (res) => {
      const status = res.statusCode ?? 502;
      const init = { status, statusText: res.statusMessage ?? '', headers: responseHeaders(res) };
      const type = res.headers['content-type'] ?? '';
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      if (type.includes('text/event-stream')) {
        resolve(new Response(streamOf(res, signal), init));
        return;
      }
      // Whole-JSON answers: one buffer, no web-stream machinery.
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      res.on('data', (c: Buffer) => {
        if (refused) return;
        const refusal = claimBuffered(size, c.byteLength);
        if (refusal) {
          refused = true;
          // Let go of its bytes now, not at 'close': the answers still being read may use them.
          chunks.length = 0;
          releaseBuffered(size);
          size = 0;
          res.destroy();
          failed(new Error(refusal));
          return;
        }
        size += c.byteLength;
        chunks.push(c);
      });
      // Every answer ends with 'close', read in full or not: its bytes leave the shared count once.
      res.once('close', () => {
        releaseBuffered(size);
        size = 0;
      });
      res.once('end', () =>
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), init)),
      );
      res.on('error', failed);
      // After 'end' this settles nothing (the promise is already resolved); before it, the body was cut.
      res.once('close', () => failed(new Error('the connection closed before the body ended')));
    });
    req.end(body as string | Uint8Array | undefined);
  });
}
