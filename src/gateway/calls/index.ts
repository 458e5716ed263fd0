/** Upstream calls: one call in its client span, and a model's chain with retries, fallback and breakers. */
export { type EmbedOutcome, type EmbedRequest, embedChain } from './embed-call.ts';
export {
  type CallServices,
  type CompleteOutcome,
  completeChain,
  openStreamChain,
  runChain,
  type StreamOutcome,
  type Tried,
} from './run-chain.ts';
export {
  asUpstreamError,
  errorType,
  finishSpan,
  reportInternal,
  type SpanRequest,
  startCallSpan,
  statusOf,
} from './upstream-call.ts';
