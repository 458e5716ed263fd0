// The dashboard's only way to the gateway: the public HTTP API, with the signed-in key as a bearer
// header. The key lives in this tab's sessionStorage (gone when the tab closes), never in a cookie (no
// other site's page can make the browser send it) and never in a URL (no history, logs or referrers).

const STORAGE = 'quorum.key';

/** The gateway's root, relative to this page, so the dashboard also works under a proxy's path prefix. */
export const ROOT = new URL('../', document.baseURI);

export function storedKey() {
  return sessionStorage.getItem(STORAGE);
}

export function storeKey(key) {
  sessionStorage.setItem(STORAGE, key);
}

export function forgetKey() {
  sessionStorage.removeItem(STORAGE);
}

/** An error answer of the API, in its error shape. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error.code ?? null;
    this.param = error.param ?? null;
  }

  /** The route does not exist on this gateway (an older or differently built one). */
  get unavailable() {
    return this.status === 404 && this.message.startsWith('Unknown route');
  }
}

/**
 * The error of an answer. A 401 to the signed-in key means it was revoked or expired meanwhile: the
 * shell is told (`quorum:key-refused`) and asks to sign in again.
 */
function refused(status, body, withStoredKey) {
  const err = new ApiError(status, body);
  if (status === 401 && withStoredKey && storedKey()) {
    window.dispatchEvent(new CustomEvent('quorum:key-refused', { detail: err.message }));
  }
  return err;
}

function url(path, query) {
  const u = new URL(path.replace(/^\//, ''), ROOT);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  return u;
}

function headers(extra, key = storedKey()) {
  const h = new Headers(extra);
  if (key) h.set('authorization', `Bearer ${key}`);
  return h;
}

/**
 * Calls the API: JSON in, JSON out. Resolves with {data, headers, status, ms}; an error answer rejects
 * with an ApiError carrying its message.
 */
export async function api(path, options = {}) {
  const init = {
    method: options.method ?? 'GET',
    headers: headers({ accept: 'application/json', ...options.headers }, options.key),
    cache: 'no-store',
    signal: options.signal,
  };
  if (options.body !== undefined) {
    if (typeof options.body === 'string') init.body = options.body;
    else {
      init.body = JSON.stringify(options.body);
      init.headers.set('content-type', 'application/json');
    }
  }
  const started = performance.now();
  const res = await fetch(url(path, options.query), init);
  const text = await res.text();
  const ms = performance.now() - started;
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) throw refused(res.status, data, options.key === undefined);
  return { data, headers: res.headers, status: res.status, ms };
}

/**
 * Reads a server-sent event stream (EventSource cannot send a bearer header, so this reads it with
 * fetch). Yields {id, event, data} per event; comments come as {comment}. Ends when the server ends it
 * or `signal` aborts.
 */
export async function* events(path, options = {}) {
  const h = headers({ accept: 'text/event-stream' });
  if (options.lastEventId) h.set('last-event-id', String(options.lastEventId));
  const res = await fetch(url(path, options.query), {
    headers: h,
    cache: 'no-store',
    signal: options.signal,
  });
  if (!res.ok) {
    let body = null;
    try {
      body = await res.json();
    } catch {}
    throw refused(res.status, body, true);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut = buffer.search(/\r?\n\r?\n/);
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
        const parsed = parseBlock(block);
        if (parsed) yield parsed;
        cut = buffer.search(/\r?\n\r?\n/);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function parseBlock(block) {
  const out = { id: null, event: 'message', data: '' };
  const data = [];
  let comment = null;
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) {
      comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'id') out.id = value;
    else if (name === 'event') out.event = value;
    else if (name === 'data') data.push(value);
  }
  if (data.length === 0) return comment === null ? null : { comment };
  out.data = data.join('\n');
  try {
    out.json = JSON.parse(out.data);
  } catch {}
  return out;
}
