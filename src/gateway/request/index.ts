/** The per-request object passed through every stage, and what it is built from. */
export {
  type CallScope,
  type ChatContext,
  type RequestBounds,
  RequestContext,
  type RequestFacts,
  type RequestHooks,
  type TraceSlot,
} from './request-context.ts';
