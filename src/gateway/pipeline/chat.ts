/**
 * A chat request's pipeline (POST /v1/chat/completions, /v1/consensus, workflow llm, judge and ensemble
 * steps): plan → admit → execute → reply → settle, one RequestContext passed through every stage.
 */
import type { ChatRequest } from '../../chat/index.ts';
import { FanOutRun } from '../fanout/index.ts';
import type { Gateway } from '../gateway.ts';
import { type ChatReply, cachedReply } from '../replies/index.ts';
import { type ChatContext, RequestContext } from '../request/index.ts';
import { admitRequest } from './admit.ts';
import { executeChain } from './execute.ts';
import { ChainBounds, FanOutBounds, planChat } from './plan.ts';

export async function chatCompletion(
  gw: Gateway,
  ctx: ChatContext,
  request: ChatRequest,
): Promise<ChatReply> {
  const rc = new RequestContext(gw, ctx, request.quorum?.tags);
  // plan: authorize every model the request can reach; a single model's request may be a cache hit.
  const planned = planChat(gw, rc, request);
  if (planned.kind === 'fanout') {
    await admitRequest(
      gw.limits,
      gw.config.server.request_timeout_ms,
      rc,
      new FanOutBounds(planned.plan, planned.reach, request),
    );
    // execute → reply → settle: the fan-out answers (or fails) and ends the request itself.
    return new FanOutRun(gw, rc, request, planned.plan, planned.reach).reply();
  }
  if (planned.hit) return cachedReply(rc, request, planned.hit);
  await admitRequest(
    gw.limits,
    gw.config.server.request_timeout_ms,
    rc,
    new ChainBounds(planned.plan, request),
  );
  // execute → reply → settle (a stream settles when it ends).
  return executeChain(gw, gw.cache, rc, request, planned.plan, planned.cacheKey);
}
