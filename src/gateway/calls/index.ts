/** Upstream calls: one call in its client span, and a model's chain with retries, fallback and breakers. */
export { type EmbedOutcome, type EmbedRequest, embedChain } from './embed-call.ts';
export {
  type CallServices,
  type CompleteOutcome,
  completeChain,
  openStreamChain,
  type StreamOutcome,
} from './run-chain.ts';
export { errorType, reportInternal } from './upstream-call.ts';
