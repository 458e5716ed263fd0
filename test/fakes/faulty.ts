/**
 * A fault-injecting upstream: one server speaking the OpenAI chat-completions, Anthropic messages and
 * Gemini generateContent wires that, on demand, misbehaves the ways real networks and providers do —
 * malformed or garbage events, stalls before headers and mid-stream, resets, truncated chunked bodies,
 * streams that end without their terminator, absurd usage, non-JSON answers, huge lines.
 *
 * The fault is picked per request by a marker anywhere in the request body (`faultMarker('reset')`, i.e.
 * `[fault:reset]`, usually in the last user message), else by the settable `mode`, so one server can
 * serve a concurrent mix. Everything else in the request is ignored.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const FAULTS = [
  /** A normal, complete answer. */
  'ok',
  /** The reproduction: `data: {"choices": [ broken` then the terminator (JSON: a broken body). */
  'malformed',
  /** A valid start, then a malformed event, then the terminator. */
  'malformed-mid',
  /** A valid start, then random bytes (JSON: random bytes as the body). */
  'garbage',
  /** Bytes that are not HTTP at all instead of a response. */
  'not-http',
  /** Never sends headers. */
  'stall-headers',
  /** A valid start (JSON: half the body), then silence while the socket stays open. */
  'stall-mid',
  /** A valid start (JSON: half the body), then a TCP reset. */
  'reset',
  /** Chunked encoding cut inside a chunk, then the socket closes. */
  'truncated-chunked',
  /** Text, then a clean close without finish reason / terminator (JSON: the body cut short). */
  'unterminated',
  /** A complete answer reporting 10^12 prompt and completion tokens. */
  'absurd-usage',
  /** 200 with an HTML page where JSON or SSE was expected. */
  'non-json',
  /** A complete answer whose text arrives as one 4 MB line. */
  'huge-line',
] as const;
export type Fault = (typeof FAULTS)[number];

/** The marker that selects a fault for one request. */
export const faultMarker = (fault: Fault) => `[fault:${fault}]`;

export const ABSURD_TOKENS = 1e12;
const HUGE_LINE_CHARS = 4 * 1024 * 1024;

export interface FaultyUpstream {
  /** Base URL: OpenAI `base_url` is `${url}/v1`; Anthropic and Gemini take `url` itself. */
  url: string;
  /** The fault served to requests without a marker. */
  mode: Fault;
  /** Requests received so far, by fault. */
  served: Partial<Record<Fault, number>>;
  close(): Promise<void>;
}

interface Usage {
  input: number;
  output: number;
}

/** One wire format: how its frames and whole answers look. */
interface Wire {
  /** Stream frames up to and including the first text delta. */
  head(model: string, text: string): string[];
  text(model: string, text: string): string;
  /** Frames that end a complete stream: finish reason, usage, terminator. */
  tail(model: string, usage: Usage): string[];
  broken: string;
  json(model: string, text: string, usage: Usage): unknown;
}

const data = (body: unknown) => `data: ${JSON.stringify(body)}\n\n`;
const named = (event: string, body: unknown) => `event: ${event}\ndata: ${JSON.stringify(body)}\n\n`;

const openai: Wire = {
  head: (model, text) => [
    data({
      id: 'f',
      object: 'chat.completion.chunk',
      created: 1,
      model,
      choices: [delta({ role: 'assistant', content: '' })],
    }),
    openai.text(model, text),
  ],
  text: (model, text) =>
    data({
      id: 'f',
      object: 'chat.completion.chunk',
      created: 1,
      model,
      choices: [delta({ content: text })],
    }),
  tail: (model, usage) => [
    data({
      id: 'f',
      object: 'chat.completion.chunk',
      created: 1,
      model,
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
    }),
    data({
      id: 'f',
      object: 'chat.completion.chunk',
      created: 1,
      model,
      choices: [],
      usage: openaiUsage(usage),
    }),
    'data: [DONE]\n\n',
  ],
  broken: 'data: {"choices": [ broken\n\n',
  json: (model, text, usage) => ({
    id: 'f',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: openaiUsage(usage),
  }),
};

function delta(d: Record<string, unknown>) {
  return { index: 0, delta: d, finish_reason: null };
}

function openaiUsage(u: Usage) {
  return { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output };
}

const anthropic: Wire = {
  head: (model, text) => [
    named('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_f',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 1, output_tokens: 1 },
      },
    }),
    named('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    }),
    anthropic.text(model, text),
  ],
  text: (_model, text) =>
    named('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text },
    }),
  tail: (_model, usage) => [
    named('content_block_stop', { type: 'content_block_stop', index: 0 }),
    named('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    }),
    named('message_stop', { type: 'message_stop' }),
  ],
  broken: 'event: content_block_delta\ndata: {"type": "content_block_delta", broken\n\n',
  json: (model, text, usage) => ({
    id: 'msg_f',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text, citations: null }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.input, output_tokens: usage.output },
  }),
};

const geminiChunk = (model: string, text: string, final?: Usage) => ({
  candidates: [
    { content: { role: 'model', parts: [{ text }] }, index: 0, ...(final ? { finishReason: 'STOP' } : {}) },
  ],
  modelVersion: model,
  ...(final
    ? {
        usageMetadata: {
          promptTokenCount: final.input,
          candidatesTokenCount: final.output,
          totalTokenCount: final.input + final.output,
        },
      }
    : {}),
});

const gemini: Wire = {
  head: (model, text) => [gemini.text(model, text)],
  text: (model, text) => data(geminiChunk(model, text)),
  tail: (model, usage) => [data(geminiChunk(model, '', usage))],
  broken: 'data: {"candidates": [ broken\n\n',
  json: (model, text, usage) => geminiChunk(model, text, usage),
};

function wireOf(method: string, path: string): { wire: Wire; stream: (body: any) => boolean } | null {
  if (method !== 'POST') return null;
  if (path.startsWith('/v1/chat/completions')) return { wire: openai, stream: (b) => b?.stream === true };
  if (path === '/v1/messages') return { wire: anthropic, stream: (b) => b?.stream === true };
  if (/:streamGenerateContent/.test(path)) return { wire: gemini, stream: () => true };
  if (/:generateContent/.test(path)) return { wire: gemini, stream: () => false };
  return null;
}

const MARKER = /\[fault:([a-z-]+)\]/g;

function faultOf(raw: string, fallback: Fault): Fault {
  const names = [...raw.matchAll(MARKER)].map((m) => m[1]);
  const last = names.at(-1);
  return (FAULTS as readonly string[]).includes(last ?? '') ? (last as Fault) : fallback;
}

export async function startFaultyUpstream(mode: Fault = 'ok'): Promise<FaultyUpstream> {
  const sockets = new Set<Socket>();
  const state: FaultyUpstream = { url: '', mode, served: {}, close };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any = null;
    try {
      body = JSON.parse(raw);
    } catch {
      // The fault decides what to answer; a body we cannot read is no reason to stop.
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = wireOf(req.method ?? 'GET', url.pathname);
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such route"}}');
      return;
    }
    const fault = faultOf(raw, state.mode);
    state.served[fault] = (state.served[fault] ?? 0) + 1;
    const model = String(body?.model ?? url.pathname.match(/models\/([^:]+)/)?.[1] ?? 'faulty');
    if (route.stream(body)) serveStream(res, route.wire, model, fault);
    else serveJson(res, route.wire, model, fault);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // The gateway under test may be the one misbehaving; the fake must never be the thing that crashes.
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function close(): Promise<void> {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  }
  return state;
}

const TEXT = 'The faulty upstream answers. ';
const USAGE: Usage = { input: 12, output: 7 };

function serveStream(res: ServerResponse, wire: Wire, model: string, fault: Fault) {
  const head = wire.head(model, TEXT);
  const complete = (text: string, usage: Usage) => [...wire.head(model, text), ...wire.tail(model, usage)];
  const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  switch (fault) {
    case 'ok':
      sse();
      return res.end(complete(TEXT, USAGE).join(''));
    case 'absurd-usage':
      sse();
      return res.end(complete(TEXT, { input: ABSURD_TOKENS, output: ABSURD_TOKENS }).join(''));
    case 'huge-line':
      sse();
      return res.end(complete('x'.repeat(HUGE_LINE_CHARS), USAGE).join(''));
    case 'malformed':
    case 'malformed-mid':
      sse();
      res.write((fault === 'malformed' ? '' : head.join('')) + wire.broken);
      // The terminator and the end arrive while the client is giving up on the stream.
      setImmediate(() => res.end(wire.tail(model, USAGE).at(-1)));
      return;
    case 'garbage':
      sse();
      res.write(head.join(''));
      return res.end(randomBytes(8192));
    case 'unterminated':
      sse();
      return res.end(head.join('') + wire.text(model, 'and then nothing more'));
    case 'non-json':
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html><body>502 Bad Gateway</body></html>');
    case 'stall-mid':
      sse();
      res.write(head.join(''));
      return; // the socket stays open and silent until the client leaves
    case 'reset':
      sse();
      res.write(head.join(''), () => res.socket?.resetAndDestroy());
      return;
    default:
      return rawFault(res, fault, head.join(''), 'text/event-stream');
  }
}

function serveJson(res: ServerResponse, wire: Wire, model: string, fault: Fault) {
  const json = (body: string | Buffer, type = 'application/json') =>
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
  const whole = JSON.stringify(wire.json(model, TEXT, USAGE));
  const half = whole.slice(0, whole.length >> 1);
  switch (fault) {
    case 'ok':
      return json(whole);
    case 'absurd-usage':
      return json(JSON.stringify(wire.json(model, TEXT, { input: ABSURD_TOKENS, output: ABSURD_TOKENS })));
    case 'huge-line':
      return json(JSON.stringify(wire.json(model, 'x'.repeat(HUGE_LINE_CHARS), USAGE)));
    case 'malformed':
    case 'malformed-mid':
      return json('{"choices": [ broken');
    case 'garbage':
      return json(randomBytes(8192));
    case 'unterminated':
      return json(half);
    case 'non-json':
      return json('<html><body>502 Bad Gateway</body></html>', 'application/json');
    case 'stall-mid':
    case 'reset':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(whole) });
      res.write(half, () => {
        if (fault === 'reset') res.socket?.resetAndDestroy();
      });
      return;
    default:
      return rawFault(res, fault, half, 'application/json');
  }
}

/** Faults below HTTP: written to the socket directly. */
function rawFault(res: ServerResponse, fault: Fault, start: string, type: string) {
  const socket = res.socket;
  if (!socket) return;
  switch (fault) {
    case 'stall-headers':
      return; // never answers
    case 'not-http':
      socket.end(Buffer.concat([Buffer.from('SSH-2.0-definitely-not-http\r\n'), randomBytes(512)]));
      return;
    case 'truncated-chunked': {
      const chunk = Buffer.from(start);
      socket.end(
        Buffer.concat([
          Buffer.from(
            `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`,
          ),
          Buffer.from(`${chunk.length.toString(16)}\r\n`),
          chunk,
          // A chunk that announces 4 KB and delivers 10 bytes.
          Buffer.from('\r\n1000\r\ndata: {"ch'),
        ]),
      );
      return;
    }
  }
}
