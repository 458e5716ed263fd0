/**
 * A request's money and limits: rate limits and the budget hold before any call (admission), what each
 * call spent (the account, capped at the hold), the ledger row of every call, and soft-limit notices.
 */
export {
  type Account,
  type AccountCap,
  type CallRecord,
  type CallSink,
  estimatedUsage,
  type OnExcess,
  RequestAccount,
  recordOf,
} from './account.ts';
export {
  type Admission,
  type AdmissionBounds,
  admitWithin,
  type LimitBackends,
  rateLimitError,
  tokenEstimate,
  unavailable,
} from './admission.ts';
export { type Attribution, type LedgerSink, recordCall } from './ledger.ts';
export {
  OUTPUT_CAP_HEADER,
  type OutputCap,
  OutputCapping,
  type OutputCapSettings,
  outputAllowance,
  outputCapSettings,
  withOutputCap,
} from './output-cap.ts';
export {
  budgetRefusal,
  budgetWindows,
  type RequestScope,
  scopeRateSubjects,
} from './scopes.ts';
export { SoftLimitNotices, teamSubject, type WarnHook, windowSubject } from './soft-limit.ts';
