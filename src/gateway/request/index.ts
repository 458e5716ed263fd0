/** The per-request object passed through every stage, and what it is built from. */
export { endUserOf, MAX_END_USER } from './end-user.ts';
export {
  type CallScope,
  type ChatContext,
  type RequestBounds,
  RequestContext,
  type RequestFacts,
  type RequestHooks,
  type TraceSlot,
} from './request-context.ts';
