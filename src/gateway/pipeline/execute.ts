/**
 * The execute stage, once planned: the request is admitted (admit.ts), then runs — a single model's
 * chain (retries, fallback, breakers, queues) or a fan-out — and is answered through the reply module;
 * it is settled when the answer is complete (a stream: when it ends).
 */
import type { ChatRequest } from '../../chat/index.ts';
import type { FanOutPlan, Plan, Reach } from '../access/index.ts';
import { type OutputCapSettings, outputCapSettings, withOutputCap } from '../budget/index.ts';
import { completeChain, openStreamChain, type StreamOutcome } from '../calls/index.ts';
import { FanOutRun } from '../fanout/index.ts';
import type { Gateway } from '../gateway.ts';
import {
  type ChatMeta,
  type ChatReply,
  LiveStream,
  liveReply,
  roundMs,
  streamReply,
} from '../replies/index.ts';
import type { RequestContext } from '../request/index.ts';
import { admitRequest } from './admit.ts';
import { ChainBounds, FanOutBounds } from './plan.ts';

/** A fan-out: admitted on the worst case of every call its strategy may make, then run. */
export async function executeFanOut(
  gw: Gateway,
  rc: RequestContext,
  request: ChatRequest,
  plan: FanOutPlan,
  reach: Reach,
): Promise<ChatReply> {
  const bounds = new FanOutBounds(plan, reach, request, capSettings(gw, rc));
  await admitRequest(gw.limits, gw.config.server.request_timeout_ms, rc, bounds);
  // Every call that inherits the request's output limit gets the budget's cap.
  const sent = rc.outputCap ? withOutputCap(request, rc.outputCap.max_tokens) : request;
  // The run answers (or fails) and ends the request itself.
  return await new FanOutRun(gw, rc, sent, plan, reach).reply();
}

/** A caller with a budget has its output capped (budget/output-cap.ts); one without keeps its request. */
function capSettings(gw: Gateway, rc: RequestContext): OutputCapSettings | undefined {
  return rc.caller.budget ? outputCapSettings(gw.config, rc.caller.team) : undefined;
}

/** A single model's request: admitted on its chain's priciest deployment, then called. */
export async function executeChain(
  gw: Gateway,
  rc: RequestContext,
  request: ChatRequest,
  plan: Plan,
  cacheKey: string | null,
): Promise<ChatReply> {
  const bounds = new ChainBounds(plan, request, capSettings(gw, rc));
  await admitRequest(gw.limits, gw.config.server.request_timeout_ms, rc, bounds);
  // The budget's output cap goes upstream; an answer cut short for a small remainder is not cached.
  const sent = rc.outputCap ? withOutputCap(request, rc.outputCap.max_tokens) : request;
  if (rc.outputCap?.reason === 'budget_remaining') cacheKey = null;
  const cached = cacheKey ? 'miss' : undefined;
  if (!request.stream) {
    try {
      const callStart = performance.now();
      const { result, deployment, attempts } = await completeChain(gw, plan.chain, sent, rc);
      const upstreamMs = performance.now() - callStart;
      if (cacheKey) gw.cache.set(cacheKey, { model: deployment.spec.id, result });
      rc.attempts.push(...attempts);
      return liveReply(rc, deployment, result, upstreamMs, cached);
    } finally {
      await rc.end();
    }
  }

  const callStart = performance.now();
  let opened: StreamOutcome;
  try {
    opened = await openStreamChain(gw, plan.chain, sent, rc);
  } catch (err) {
    await rc.end();
    throw err;
  }
  const firstEventAt = performance.now();
  rc.attempts.push(...opened.attempts);
  const meta: ChatMeta = {
    model: opened.deployment.spec.id,
    costUsd: 0,
    overheadMs: roundMs(callStart - rc.startedAt + (performance.now() - firstEventAt)),
    headers: rc.headers,
    ...(cached ? { cache: cached } : {}),
  };
  return streamReply(opened, new LiveStream(rc, request, opened.deployment, meta, gw.cache, cacheKey), meta);
}
