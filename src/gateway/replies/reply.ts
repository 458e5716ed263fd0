/**
 * The one place an answer is assembled, whichever path produced it — a live call, a cache hit, a
 * fan-out, a streamed ensemble: the id and `created` (the request's), usage, the `quorum` record, the
 * meta the server turns into headers, and a finished answer streamed the way a provider streams.
 */
import {
  type ChatRequest,
  type ChatResult,
  type FinishReason,
  resultEvents,
  type StreamEvent,
  type Usage,
} from '../../chat/index.ts';
import type { GatewayError } from '../../errors/index.ts';
import { routeRecord } from '../access/index.ts';
import { type CachedAnswer, type ResponseCache, StreamRecorder } from '../cache/index.ts';
import type { Attempt, Deployment } from '../deployments/index.ts';
import type { RequestContext } from '../request/index.ts';
import { completionBody, publicAttempts, type QuorumRecord } from './completion.ts';
import { type StreamReplyOptions, type StreamSource, streamChunks, streamFailure } from './stream.ts';

/** What the server needs to answer. */
export interface ChatMeta {
  /** Catalog id of the model that answered. */
  model: string;
  costUsd: number;
  /** Time spent in the gateway itself, excluding upstream time. */
  overheadMs: number;
  /** Set when the request was cacheable. */
  cache?: 'hit' | 'miss';
  /** Rate-limit headers (x-ratelimit-*) for the response. */
  headers?: Record<string, string>;
}

export type ChatReply =
  | { stream: false; body: ReturnType<typeof completionBody>; meta: ChatMeta }
  | {
      stream: true;
      meta: ChatMeta;
      /** Chunk objects; the last one carries usage and quorum. Throws GatewayError on a mid-stream failure. */
      chunks: AsyncGenerator<Record<string, unknown>>;
    };

/** No upstream call: the API's `usage` sums upstream calls, so a cache hit reports none. */
export const NO_USAGE: Usage = Object.freeze({ prompt_tokens: 0, completion_tokens: 0 });

/** Milliseconds to the microsecond, as `x-quorum-overhead-ms` shows them. */
export const roundMs = (n: number): number => Math.round(n * 1000) / 1000;

/** Whose answer a chat record is: learning reads it (feedback, a fan-out's signals, schema checks). */
export interface AnsweredBy {
  /** Catalog id of the model whose answer the client got. */
  model: string;
  /** The answer's text when known. */
  text?: string | null;
  /** A cache hit (learnt from when it was first answered). */
  cached?: boolean;
}

/**
 * The `quorum` record: the request id, what was charged, the route (for `auto`), the attempts, and
 * what the path adds (a cache hit, a fan-out's strategy and votes, a review). With `by` (a chat
 * answer), learning is told; a fan-out's candidates get their `learning` entries before it goes out.
 */
export function quorumRecord(
  rc: RequestContext,
  costUsd: number,
  attempts: readonly Attempt[],
  extra?: Record<string, unknown>,
  by?: AnsweredBy,
): QuorumRecord {
  const record: QuorumRecord = {
    request_id: rc.id,
    cost_usd: costUsd,
    ...(rc.route ? { route: routeRecord(rc.route) } : {}),
    attempts: publicAttempts(attempts),
    ...(rc.outputCap ? { output_cap: rc.outputCap } : {}),
    ...extra,
  };
  rc.answer = record;
  if (by) rc.answered(record, by.model, by.text, by.cached);
  return record;
}

/** A JSON answer. */
export function completionReply(
  rc: RequestContext,
  model: string,
  result: ChatResult,
  usage: Usage,
  quorum: QuorumRecord,
  meta: ChatMeta,
): ChatReply {
  return {
    stream: false,
    body: completionBody(rc.completionId, rc.created, model, result, usage, quorum),
    meta,
  };
}

/**
 * How a streamed answer ends: the chunks' id, `created` and model, the finishing usage and record, what
 * a failure is called, and what runs once it is over. One object per stream; subclasses, not closures.
 */
export abstract class ReplyStream implements StreamReplyOptions {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly includeUsage: boolean;
  onEvent?(event: StreamEvent): void;

  constructor(rc: RequestContext, request: ChatRequest, model: string) {
    this.id = rc.completionId;
    this.created = rc.created;
    this.model = model;
    this.includeUsage = request.stream_options?.include_usage === true;
  }

  abstract finish(usage: Usage, events: { finish: FinishReason }): { usage: Usage; quorum: QuorumRecord };

  describeFailure(err: unknown): GatewayError {
    return streamFailure(this.model, err, false);
  }

  cleanup(): void | Promise<void> {}
}

/** A streamed answer: `source` gives the events, `ending` the rest. */
export function streamReply(source: StreamSource, ending: ReplyStream, meta: ChatMeta): ChatReply {
  return { stream: true, meta, chunks: streamChunks(source, ending) };
}

/** An answer known in full before the reply starts: its usage and record are fixed. */
class FinishedStream extends ReplyStream {
  private readonly usage: Usage;
  private readonly quorum: QuorumRecord;

  constructor(rc: RequestContext, request: ChatRequest, model: string, usage: Usage, quorum: QuorumRecord) {
    super(rc, request, model);
    this.usage = usage;
    this.quorum = quorum;
  }

  finish() {
    return { usage: this.usage, quorum: this.quorum };
  }
}

export interface FinishedAnswer {
  /** Catalog id shown as `model`. */
  model: string;
  result: ChatResult;
  /** The usage reported (a cache hit reports none; a fan-out the sum of its calls). */
  usage: Usage;
  quorum: QuorumRecord;
}

/**
 * A finished answer — a cache hit, a fan-out's result — as JSON, or replayed as the stream a provider
 * would send (`eventModel` names the model in its events).
 */
export function finishedReply(
  rc: RequestContext,
  request: ChatRequest,
  answer: FinishedAnswer,
  eventModel: string,
  meta: ChatMeta,
): ChatReply {
  if (!request.stream) {
    return completionReply(rc, answer.model, answer.result, answer.usage, answer.quorum, meta);
  }
  const events = resultEvents(answer.result, eventModel);
  // A replayed answer always starts with its model event.
  const first = events.next().value as StreamEvent;
  const ending = new FinishedStream(rc, request, answer.model, answer.usage, answer.quorum);
  return streamReply({ first, rest: events }, ending, meta);
}

/**
 * A cache hit: no upstream call, so no usage and no cost (the API's `usage` sums upstream calls); the
 * cached answer's own usage is reported as `quorum.cached_usage`.
 */
export function cachedReply(rc: RequestContext, request: ChatRequest, hit: CachedAnswer): ChatReply {
  const quorum = quorumRecord(
    rc,
    0,
    [],
    { cache: 'hit', cached_usage: hit.result.usage },
    { model: hit.model, cached: true },
  );
  const meta: ChatMeta = {
    model: hit.model,
    costUsd: 0,
    overheadMs: roundMs(performance.now() - rc.startedAt),
    cache: 'hit',
  };
  const answer = { model: hit.model, result: hit.result, usage: NO_USAGE, quorum };
  // The provider's own name for the model, as its stream said it, else the catalog id.
  return finishedReply(rc, request, answer, hit.result.upstream_model ?? hit.model, meta);
}

/** A live call's JSON answer: charged what its calls cost, overhead excluding the upstream's time. */
export function liveReply(
  rc: RequestContext,
  deployment: Deployment,
  result: ChatResult,
  upstreamMs: number,
  cache: 'hit' | 'miss' | undefined,
): ChatReply {
  // What was charged (usage beyond the hold is never charged, nor shown as charged).
  const cost = rc.spent.totalUsd;
  const model = deployment.spec.id;
  const quorum = quorumRecord(rc, cost, rc.attempts, undefined, { model, text: result.content });
  const body = completionBody(rc.completionId, rc.created, model, result, result.usage, quorum);
  const overheadMs = roundMs(performance.now() - rc.startedAt - upstreamMs);
  return {
    stream: false,
    body,
    meta: { model, costUsd: cost, overheadMs, headers: rc.headers, ...(cache ? { cache } : {}) },
  };
}

/** A live upstream stream passed on: recorded for the cache when cacheable, settled when it ends. */
export class LiveStream extends ReplyStream {
  private readonly rc: RequestContext;
  private readonly meta: ChatMeta;
  private readonly cache: ResponseCache;
  private readonly cacheKey: string | null;
  private readonly recorder: StreamRecorder | undefined;

  constructor(
    rc: RequestContext,
    request: ChatRequest,
    deployment: Deployment,
    meta: ChatMeta,
    cache: ResponseCache,
    cacheKey: string | null,
  ) {
    super(rc, request, deployment.spec.id);
    this.rc = rc;
    this.meta = meta;
    this.cache = cache;
    this.cacheKey = cacheKey;
    this.recorder = cacheKey ? new StreamRecorder() : undefined;
    if (this.recorder) this.onEvent = this.record;
    // A JSON-schema answer is checked against its schema (learning): its text is kept as it streams.
    else if (request.response_format?.type === 'json_schema') this.onEvent = this.collect;
  }

  private text: string | undefined = undefined;

  private record(event: StreamEvent): void {
    this.recorder!.push(event);
  }

  private collect(event: StreamEvent): void {
    if (event.type === 'text') this.text = (this.text ?? '') + event.text;
  }

  finish(usage: Usage) {
    const result = this.recorder?.result();
    if (this.cacheKey && result) this.cache.set(this.cacheKey, { model: this.model, result });
    // The upstream stream has ended, so its call is in the account.
    this.meta.costUsd = this.rc.spent.totalUsd;
    const text = result ? result.content : this.text;
    const by = { model: this.model, text };
    return { usage, quorum: quorumRecord(this.rc, this.meta.costUsd, this.rc.attempts, undefined, by) };
  }

  override describeFailure(err: unknown): GatewayError {
    return streamFailure(this.model, err, this.rc.timedOut);
  }

  override cleanup(): Promise<void> {
    return this.rc.end();
  }
}
