import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

/**
 * A `fetch` for the provider SDKs on node:http with keep-alive agents. The SDKs accept a custom
 * fetch; the global one (undici's WHATWG fetch) costs about twice as much per call as node:http, and
 * this gateway makes one call per request. Only what the SDKs use is supported: string or byte bodies,
 * an AbortSignal, and a Response whose body streams as it arrives (for SSE). Anything else falls back
 * to the global fetch.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' }),
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
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.once('end', () => controller.close());
      res.once('error', (err) =>
        controller.error(signal?.aborted ? abortError(signal) : new TypeError('terminated', { cause: err })),
      );
      res.once('aborted', () => controller.error(new TypeError('terminated')));
    },
    pull() {
      res.resume();
    },
    cancel() {
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
    const headers = headersOf(init);
    if (body != null) headers['content-length'] = String(Buffer.byteLength(body as string | Uint8Array));
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: init?.method ?? 'GET',
      headers,
      agent,
    });
    const onAbort = () => req.destroy(abortError(signal!) as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err }));
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
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () =>
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), init)),
      );
      res.once('error', (err) =>
        reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: err })),
      );
    });
    req.end(body as string | Uint8Array | undefined);
  });
}
