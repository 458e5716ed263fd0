/**
 * The gateway's public API: what the server, the workflow engine, the CLI and the boot code use.
 * Nothing outside src/gateway/ imports a file below this one.
 */
export {
  authorizeChat,
  authorizeReview,
  type Caller,
  dryRun,
  ledgerKeyOf,
  MASTER_CALLER,
  maxCost,
  OPEN_CALLER,
  ownValue,
  reviewReserve,
  STATIC_KEY_PREFIX,
} from './access/index.ts';
export {
  type Attribution,
  admitWithin,
  budgetWindows,
  type LedgerSink,
  type LimitBackends,
  tokenEstimate,
  unavailable,
} from './budget/index.ts';
export {
  type AnsweredRequest,
  type Attempt,
  costOf,
  type Deployment,
  HealthTracker,
  type LearningHook,
  type QualityEstimate,
  type ReviewedRequest,
} from './deployments/index.ts';
export type { EmbeddingsBody, EmbeddingsReply } from './embeddings/index.ts';
export { Gateway, type GatewayOptions } from './gateway.ts';
export {
  chainServedRaw,
  memberText,
  type PassthroughCall,
  type PassthroughReply,
  passthrough,
  type RawEvent,
  type RawProtocol,
  type RawRequest,
  type RawStreamTap,
  type RawTarget,
  type RawWhole,
  removeMember,
  replaceMember,
  replaceMembers,
  servedRaw,
  setMember,
  sseFrame,
} from './passthrough/index.ts';
export { chatCompletion, createEmbeddings, type ReviewRun, runReview } from './pipeline/index.ts';

export {
  addUsage,
  type ChatMeta,
  type ChatReply,
  chunkJson,
  publicAttempts,
  usageBody,
} from './replies/index.ts';
export {
  type ChatContext,
  endUserOf,
  MAX_END_USER,
  type RequestFacts,
  type TraceSlot,
} from './request/index.ts';
