/**
 * The Responses API passed through raw to an upstream that serves it (OpenAI's own API, or a server
 * configured with `responses: true`): the request's schema as Quorum reads it, the upstream body, what
 * is stored, and the protocol the gateway's raw-call path speaks it with.
 */
export type { ResponseCapture } from './capture.ts';
export { type ResponseIdentity, ResponsesPassthrough } from './protocol.ts';
export { type PassPlan, planPassthrough } from './request.ts';
export { type ResponsePass, ResponsePassSchema } from './schema.ts';
