/**
 * The execute stage for a single model: its chain (retries, fallback, breakers, queues), answered
 * through the reply module; the request is settled when the answer is complete (streams: when they end).
 */
import type { ChatRequest } from '../../chat/index.ts';
import type { Plan } from '../access/index.ts';
import { completeChain, openStreamChain, type StreamOutcome } from '../calls/index.ts';
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

export async function executeChain(
  gw: Gateway,
  rc: RequestContext,
  request: ChatRequest,
  plan: Plan,
  cacheKey: string | null,
): Promise<ChatReply> {
  const cache = cacheKey ? 'miss' : undefined;
  if (!request.stream) {
    try {
      const callStart = performance.now();
      const { result, deployment, attempts } = await completeChain(gw, plan.chain, request, rc);
      const upstreamMs = performance.now() - callStart;
      if (cacheKey) gw.cache.set(cacheKey, { model: deployment.spec.id, result });
      rc.attempts.push(...attempts);
      return liveReply(rc, deployment, result, upstreamMs, cache);
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
    ...(cache ? { cache } : {}),
  };
  return streamReply(opened, new LiveStream(rc, request, opened.deployment, meta, gw.cache, cacheKey), meta);
}
