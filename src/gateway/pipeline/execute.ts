/**
 * The execute stage, once planned: the request is admitted (admit.ts), then runs — a single model's
 * chain (retries, fallback, breakers, queues) or a fan-out — and is answered through the reply module;
 * it is settled when the answer is complete (a stream: when it ends).
 */
import type { ChatRequest } from '../../chat/index.ts';
import type { FanOutPlan, Plan, Reach } from '../access/index.ts';
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
  const bounds = new FanOutBounds(plan, reach, request);
  await admitRequest(gw.limits, gw.config.server.request_timeout_ms, rc, bounds);
  // The run answers (or fails) and ends the request itself.
  return await new FanOutRun(gw, rc, request, plan, reach).reply();
}

/** A single model's request: admitted on its chain's priciest deployment, then called. */
export async function executeChain(
  gw: Gateway,
  rc: RequestContext,
  request: ChatRequest,
  plan: Plan,
  cacheKey: string | null,
): Promise<ChatReply> {
  await admitRequest(gw.limits, gw.config.server.request_timeout_ms, rc, new ChainBounds(plan, request));
  const cached = cacheKey ? 'miss' : undefined;
  if (!request.stream) {
    try {
      const callStart = performance.now();
      const { result, deployment, attempts } = await completeChain(gw, plan.chain, request, rc);
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
    opened = await openStreamChain(gw, plan.chain, request, rc);
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
