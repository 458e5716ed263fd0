export { type Caller, MASTER_CALLER, OPEN_CALLER } from './caller.ts';
export { type ChatContext, type ChatMeta, type ChatReply, chatCompletion } from './chat.ts';
export { costOf } from './cost.ts';
export type { Attempt, Deployment } from './deployment.ts';
export { Gateway, type GatewayOptions } from './gateway.ts';
