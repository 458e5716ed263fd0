/**
 * The OpenAI Responses API surface: translated to and from the gateway's chat shape, or passed through
 * raw to an upstream that serves the API itself.
 */
export { invalid } from './check.ts';
export { type Conversation, chatHistory, loadConversation } from './history.ts';
export { responseId } from './ids.ts';
export type { Item } from './input.ts';
export {
  type PassPlan,
  planPassthrough,
  type ResponseCapture,
  type ResponseIdentity,
  type ResponsePass,
  ResponsePassSchema,
  ResponsesPassthrough,
} from './passthrough/index.ts';
export { planResponse, type ResponseEcho, type ResponsePlan } from './request.ts';
export {
  messageOutput,
  type ResponseBase,
  responseObject,
  responseUsage,
  statusOf,
} from './response.ts';
export { type ResponseCreate, ResponseCreateSchema } from './schema.ts';
export { EventCounter, type ResponseEvent, type ResponseStreamHooks, responseEvents } from './stream.ts';
