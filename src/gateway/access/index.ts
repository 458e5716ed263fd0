/**
 * Who may call what: the caller, the one authorization decision (every model a request can reach,
 * fallbacks included), the router's choice for `auto`, the fan-out a request names, and the worst case
 * each can cost — decided before any call, so the calls, the budget hold and the allow-list agree.
 */
export {
  type Caller,
  ledgerKeyOf,
  MASTER_CALLER,
  OPEN_CALLER,
  STATIC_KEY_PREFIX,
} from './caller.ts';
export { buildChain, isAllowed, type ModelKind } from './chain.ts';
export { authorizeEmbeddings } from './embeddings.ts';
export { type FanOutPlan, type FanOutStrategy, fanOutPlan, type NamedModel } from './fanout-plan.ts';
export { ownRecord, ownValue } from './own-key.ts';
export { authorizeChat, authorizeReview, type Decision, Reach } from './reach.ts';
export { chainFit, chainReserve, maxCost, reviewReserve } from './reserve.ts';
export { autoPolicy, dryRun, type Plan, planRequest, routeRecord } from './route.ts';
