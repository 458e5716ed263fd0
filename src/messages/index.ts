/**
 * The Anthropic Messages surface's wire format (POST /v1/messages, /v1/messages/count_tokens): the
 * request's schema, the passthrough protocol for Anthropic models, the translation to and from the
 * gateway's chat shape for every other model, and token estimates.
 */
export { messageBody, messageEvents, sseEvent } from './from-chat.ts';
export { type ClientHeaders, type MessagesEndpoint, MessagesPassthrough } from './passthrough.ts';
export {
  type CountTokensRequest,
  CountTokensRequestSchema,
  type MessagesRequest,
  MessagesRequestSchema,
} from './schema.ts';
export { toChatRequest } from './to-chat.ts';
export { costBoundsOf, promptRange } from './tokens.ts';
