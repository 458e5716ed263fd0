/**
 * Shared plumbing for the fake upstreams: a node:http server on 127.0.0.1 that records what it
 * received (and whether the client went away before the answer finished), and plays scripted replies.
 * Each fake (openai.ts, anthropic.ts, gemini.ts) supplies only its wire format.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: string;
}

/** What a fake should answer. Every field is optional; the defaults give a short text answer. */
export interface FakeReply {
  text?: string;
  toolCalls?: FakeToolCall[];
  /** Answer with this HTTP error instead (in the provider's error body format). */
  error?: { status: number; message: string; code?: string; type?: string; retryAfterSeconds?: number };
  usage?: { input?: number; output?: number; cached?: number; reasoning?: number };
  finish?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  /** Delay before the response headers. */
  latencyMs?: number;
  /** Delay between stream chunks. */
  chunkDelayMs?: number;
  /** Streams only: destroy the socket after this many chunks have been written. */
  dropAfterChunks?: number;
  /** Never answer (until the client goes away). */
  hang?: boolean;
  /** Reply with this raw body and status 200 (for malformed-response tests). */
  raw?: string;
  /** The status `raw` is sent with (an error body of an unexpected shape, say). */
  rawStatus?: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** The body exactly as it arrived (UTF-8 text), for byte-for-byte passthrough checks. */
  raw: string;
  stream: boolean;
  /** True once the client closed the connection before the answer was complete. */
  aborted: boolean;
  /** Resolves when the exchange is over (answered or aborted). */
  done: Promise<void>;
}

export type Responder = (req: ReceivedRequest) => FakeReply;

export interface FakeServer {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Replies used, first in first out, before falling back to the default responder. */
  enqueue(...replies: FakeReply[]): void;
  /** Replace the default responder. */
  respond(reply: FakeReply | Responder): void;
  reset(): void;
  /** Connections open to the fake right now (a keep-alive pool's idle ones included). */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/** What a wire format needs to provide. */
export interface WireFormat {
  name: string;
  /**
   * Extracts the model and stream flag from a request; returns null for unknown routes (404). An
   * `endpoint` names a route other than the wire's main one (answered by `writeEndpoint`).
   */
  route(
    method: string,
    path: string,
    body: any,
  ): { model: string; stream: boolean; endpoint?: string } | null;
  writeError(res: ServerResponse, reply: NonNullable<FakeReply['error']>): void;
  writeJson(res: ServerResponse, ctx: ReplyContext): void;
  /** Answers a route's other endpoint (e.g. Anthropic's count_tokens), streamed or not. */
  writeEndpoint?(endpoint: string, res: ServerResponse, ctx: ReplyContext): void | Promise<void>;
  /** The stream's chunks as ready-to-write strings (SSE frames, or JSON array pieces). */
  streamChunks(ctx: ReplyContext): string[];
  streamContentType: string;
}

export interface ReplyContext {
  model: string;
  /** The request's path (without the query), for fakes serving more than one endpoint. */
  path: string;
  reply: FakeReply;
  text: string;
  usage: { input: number; output: number; cached: number; reasoning: number };
  body: any;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Default answer: deterministic, names the provider and echoes the start of the last user text. */
export function defaultText(provider: string, lastUserText: string): string {
  return `${provider} says: ${lastUserText.slice(0, 80) || 'hello'}`;
}

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export async function startFake(
  wire: WireFormat,
  lastUserText: (body: any) => string,
  options: { port?: number } = {},
): Promise<FakeServer> {
  const received: ReceivedRequest[] = [];
  const queue: FakeReply[] = [];
  let responder: Responder = () => ({});

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = wire.route(req.method ?? 'GET', url.pathname + url.search, body);
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such route"}}');
      return;
    }
    let finish!: () => void;
    const record: ReceivedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: req.headers,
      body,
      raw,
      stream: route.stream,
      aborted: false,
      done: new Promise<void>((r) => {
        finish = r;
      }),
    };
    received.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
      finish();
    });

    const reply = queue.shift() ?? responder(record);
    if (reply.hang) return;
    if (reply.latencyMs) await sleep(reply.latencyMs);
    if (res.destroyed) return;
    if (reply.error) {
      wire.writeError(res, reply.error);
      return;
    }
    if (reply.raw !== undefined) {
      res.writeHead(reply.rawStatus ?? 200, { 'content-type': 'application/json' }).end(reply.raw);
      return;
    }
    const userText = lastUserText(body);
    const text = reply.text ?? (reply.toolCalls ? '' : defaultText(wire.name, userText));
    const ctx: ReplyContext = {
      model: route.model,
      path: url.pathname,
      reply,
      text,
      body,
      usage: {
        input: reply.usage?.input ?? estimateTokens(JSON.stringify(body?.messages ?? body?.contents ?? '')),
        output: reply.usage?.output ?? estimateTokens(text + JSON.stringify(reply.toolCalls ?? '')),
        cached: reply.usage?.cached ?? 0,
        reasoning: reply.usage?.reasoning ?? 0,
      },
    };
    if (route.endpoint && wire.writeEndpoint) {
      await wire.writeEndpoint(route.endpoint, res, ctx);
      return;
    }
    if (!route.stream) {
      wire.writeJson(res, ctx);
      return;
    }
    await writeFrames(res, wire.streamContentType, wire.streamChunks(ctx), reply);
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    enqueue: (...replies) => queue.push(...replies),
    respond: (reply) => {
      responder = typeof reply === 'function' ? reply : () => reply;
    },
    reset: () => {
      received.length = 0;
      queue.length = 0;
      responder = () => ({});
    },
    connections: () =>
      new Promise<number>((resolve, reject) =>
        server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A 200 stream of ready-written frames, played as the reply scripts it (delays, a dropped connection). */
export async function writeFrames(
  res: ServerResponse,
  contentType: string,
  frames: readonly string[],
  reply: FakeReply,
): Promise<void> {
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache' });
  for (let i = 0; i < frames.length; i++) {
    if (res.destroyed) return;
    if (reply.dropAfterChunks !== undefined && i >= reply.dropAfterChunks) {
      res.destroy();
      return;
    }
    res.write(frames[i]);
    if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
  }
  res.end();
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export function retryAfterHeaders(error: NonNullable<FakeReply['error']>): Record<string, string> {
  return error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
}

/** Text of the last user message in an OpenAI-shaped message list. */
export function lastOpenAIUserText(messages: any[] | undefined): string {
  const last = [...(messages ?? [])].reverse().find((m) => m?.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content ?? [])
    .filter((p: any) => p?.type === 'text')
    .map((p: any) => p.text)
    .join(' ');
}

/** Splits text into small stream deltas (words with their following space). */
export function splitDeltas(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}
