/**
 * The raw-call path: a surface whose wire format is a provider's own (Anthropic Messages) passes the
 * client's body to that provider's deployments as it came — only the model renamed — and their answer
 * back, through the gateway's pipeline (authorization, budget hold, rate limits, retries and fallback,
 * one ledger row and one span per call, settlement). The surface supplies a RawProtocol; nothing here
 * knows a provider.
 */
export { memberText, removeMember, replaceMember, replaceMembers, setMember } from './json-splice.ts';
export { chainServedRaw, passthrough, servedRaw } from './run.ts';
export { sseFrame } from './sse-frame.ts';
export type {
  PassthroughCall,
  PassthroughReply,
  RawEvent,
  RawProtocol,
  RawRequest,
  RawStreamTap,
  RawTarget,
  RawWhole,
} from './types.ts';
