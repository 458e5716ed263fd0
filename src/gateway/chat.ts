import { analyzeTask } from '../../routing/analyze.ts';
import { outputTokensWithin, worstCaseCost } from '../../routing/filter.ts';
import type { ChatRequest, Usage } from '../chat/index.ts';
import { type CachedAnswer, replayEvents, StreamRecorder } from './cache.ts';
import type { Caller } from './caller.ts';
import { completeChain, openStreamChain } from './execute.ts';
import { fanOutCompletion } from './fanout.ts';
import type { Gateway } from './gateway.ts';
import { beginRequest, tokenEstimate } from './lifecycle.ts';
import { type Plan, routeRecord } from './plan.ts';
import { authorizeChat } from './reach.ts';
import { completionBody, publicAttempts, type QuorumRecord } from './response.ts';
import { streamChunks, streamFailure } from './stream-reply.ts';

/** One request's context, created by the server. */
export interface ChatContext {
  requestId: string;
  caller: Caller;
  /** Aborted when the client goes away. */
  clientSignal: AbortSignal;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /**
   * Told what the request was charged when it ends, answered or failed: a fan-out that fails after its
   * candidates answered has still spent (a workflow's cost cap counts that).
   */
  onSpent?: (usd: number) => void;
}

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

const ms = (n: number) => Math.round(n * 1000) / 1000;
const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0 };

export async function chatCompletion(
  gw: Gateway,
  ctx: ChatContext,
  request: ChatRequest,
): Promise<ChatReply> {
  const decision = authorizeChat(gw, ctx.caller, request);
  if (decision.kind === 'fanout') return fanOutCompletion(gw, ctx, request, decision.plan, decision.reach);
  const plan = decision.plan;
  const id = `chatcmpl-${ctx.requestId}`;
  const created = Math.floor(Date.now() / 1000);
  const record = (
    cost: number,
    attempts: QuorumRecord['attempts'],
    extra: Record<string, unknown> = {},
  ): QuorumRecord => ({
    request_id: ctx.requestId,
    cost_usd: cost,
    ...(plan.route ? { route: routeRecord(plan.route) } : {}),
    attempts,
    ...extra,
  });

  const cacheKey = gw.cache.keyFor(ctx.caller.team, request);
  const hit = cacheKey ? gw.cache.get(cacheKey) : undefined;
  const cache = cacheKey ? (hit ? 'hit' : 'miss') : undefined;
  if (hit) return cachedReply(ctx, request, hit, id, created, record);

  const signals = await beginRequest(gw, ctx, {
    reserveUsd: () => chainReserve(plan, request),
    fitHint: (remainingUsd) => chainFit(plan, request, remainingUsd),
    ...(request.quorum?.tags ? { tags: request.quorum.tags } : {}),
    estimateTokens: () => tokenEstimate(request),
  });
  if (!request.stream) {
    try {
      const callStart = performance.now();
      const { result, deployment, attempts } = await completeChain(gw, plan.chain, request, signals);
      const upstreamMs = performance.now() - callStart;
      if (cacheKey) gw.cache.set(cacheKey, { model: deployment.spec.id, result });
      // What was charged (usage beyond the hold is never charged, nor shown as charged).
      const cost = signals.spent.totalUsd;
      const body = completionBody(
        id,
        created,
        deployment.spec.id,
        result,
        result.usage,
        record(cost, publicAttempts(attempts)),
      );
      const overheadMs = ms(performance.now() - ctx.startedAt - upstreamMs);
      return {
        stream: false,
        body,
        meta: {
          model: deployment.spec.id,
          costUsd: cost,
          overheadMs,
          headers: signals.headers,
          ...(cache ? { cache } : {}),
        },
      };
    } finally {
      await signals.end();
    }
  }

  const callStart = performance.now();
  let opened: Awaited<ReturnType<typeof openStreamChain>>;
  try {
    opened = await openStreamChain(gw, plan.chain, request, signals);
  } catch (err) {
    await signals.end();
    throw err;
  }
  const firstEventAt = performance.now();
  const { deployment, attempts } = opened;
  const recorder = cacheKey ? new StreamRecorder() : undefined;
  const meta: ChatMeta = {
    model: deployment.spec.id,
    costUsd: 0,
    overheadMs: ms(callStart - ctx.startedAt + (performance.now() - firstEventAt)),
    headers: signals.headers,
    ...(cache ? { cache } : {}),
  };
  const chunks = streamChunks(opened, {
    id,
    created,
    model: deployment.spec.id,
    includeUsage: request.stream_options?.include_usage === true,
    ...(recorder ? { onEvent: (e) => recorder.push(e) } : {}),
    finish: (usage) => {
      const result = recorder?.result();
      if (cacheKey && result) gw.cache.set(cacheKey, { model: deployment.spec.id, result });
      // The upstream stream has ended, so its call is in the account.
      meta.costUsd = signals.spent.totalUsd;
      return { usage, quorum: record(meta.costUsd, publicAttempts(attempts)) };
    },
    describeFailure: (err) => streamFailure(deployment.spec.id, err, signals.deadline.aborted),
    cleanup: () => signals.end(),
  });
  return { stream: true, meta, chunks };
}

/**
 * A cache hit: no upstream call, so no usage and no cost (the API's `usage` sums upstream calls);
 * the cached answer's own usage is reported as `quorum.cached_usage`.
 */
function cachedReply(
  ctx: ChatContext,
  request: ChatRequest,
  hit: CachedAnswer,
  id: string,
  created: number,
  record: (cost: number, attempts: QuorumRecord['attempts'], extra?: Record<string, unknown>) => QuorumRecord,
): ChatReply {
  const quorum = record(0, [], { cache: 'hit', cached_usage: hit.result.usage });
  const meta: ChatMeta = {
    model: hit.model,
    costUsd: 0,
    overheadMs: ms(performance.now() - ctx.startedAt),
    cache: 'hit',
  };
  if (!request.stream) {
    return {
      stream: false,
      body: completionBody(id, created, hit.model, hit.result, NO_USAGE, quorum),
      meta,
    };
  }
  const events = replayEvents(hit);
  const first = events.next();
  const rest = (async function* () {
    yield* events;
  })();
  const chunks = streamChunks(
    { first: first.done ? { type: 'finish', reason: hit.result.finish_reason } : first.value, rest },
    {
      id,
      created,
      model: hit.model,
      includeUsage: request.stream_options?.include_usage === true,
      finish: () => ({ usage: NO_USAGE, quorum }),
      describeFailure: (err) => streamFailure(hit.model, err, false),
      cleanup: () => {},
    },
  );
  return { stream: true, meta, chunks };
}

/**
 * What would fit a budget's remainder: the largest `max_tokens` every deployment of the chain could
 * answer within it, or that even the prompt may not fit.
 */
function chainFit(plan: Plan, request: ChatRequest, remainingUsd: number): string {
  const task = plan.route?.task ?? analyzeTask(request);
  let fits = Number.POSITIVE_INFINITY;
  for (const dep of plan.chain) fits = Math.min(fits, outputTokensWithin(dep.spec, task, remainingUsd));
  const fallbacks =
    plan.chain.length > 1
      ? ' (fallbacks included; `"quorum": {"fallbacks": []}` counts this model alone)'
      : '';
  return fits >= 1
    ? `With \`max_tokens\` of at most ${fits} it would fit the remaining budget${fallbacks}.`
    : `Even its prompt may cost more than the remaining budget${fallbacks}.`;
}

/** The most this request can cost on any deployment of its chain (it may fall back to the priciest). */
function chainReserve(plan: Plan, request: ChatRequest): number {
  const task = plan.route?.task ?? analyzeTask(request);
  let most = 0;
  for (const dep of plan.chain) most = Math.max(most, worstCaseCost(dep.spec, task));
  return most;
}
