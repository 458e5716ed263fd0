/**
 * A chat request's pipeline (POST /v1/chat/completions, /v1/consensus, workflow llm, judge and ensemble
 * steps): plan → admit → execute → reply → settle, one RequestContext passed through every stage.
 */
import type { ChatRequest } from '../../chat/index.ts';
import type { Gateway } from '../gateway.ts';
import { type ChatReply, cachedReply } from '../replies/index.ts';
import { type ChatContext, RequestContext } from '../request/index.ts';
import { executeChain, executeFanOut } from './execute.ts';
import { planChat } from './plan.ts';

/**
 * Not an async function, so the hot path pays for no extra promise: the stages after planning are the
 * async ones. Planning refuses synchronously (an unknown model, a model not allowed); that refusal is
 * returned as a rejection, as from any other stage.
 */
export function chatCompletion(gw: Gateway, ctx: ChatContext, request: ChatRequest): Promise<ChatReply> {
  try {
    const rc = new RequestContext(gw, ctx, request.quorum?.tags);
    rc.request = request;
    // plan: authorize every model the request can reach; a single model's request may be a cache hit.
    const planned = planChat(gw, rc, request);
    if (planned.kind === 'fanout') return executeFanOut(gw, rc, request, planned.plan, planned.reach);
    if (planned.hit) return Promise.resolve(cachedReply(rc, request, planned.hit));
    // admit → execute → reply → settle (a stream settles when it ends).
    return executeChain(gw, rc, request, planned.plan, planned.cacheKey);
  } catch (err) {
    return Promise.reject(err);
  }
}
