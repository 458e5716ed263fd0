/** The persistence layer: `openStore(QUORUM_DATABASE_URL)` and the shapes its repositories speak. */
export { parseDatabaseUrl, redactUrl } from './database-url.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export {
  type CreatedKey,
  hashKey,
  KEY_PREFIX,
  type KeyInfo,
  type KeyInput,
  type KeyLookup,
  type KeyStatus,
  KeysRepo,
} from './keys.ts';
export {
  Ledger,
  type LedgerEntry,
  type LedgerOptions,
  type SpendGroupBy,
  type SpendQuery,
  type SpendRow,
} from './ledger.ts';
export type { Engine } from './migrations.ts';
export { type OpenStoreOptions, openStore, type Store } from './open.ts';
export {
  type RequestLogOptions,
  type RequestLogQuery,
  RequestLogRepo,
  type RequestLogRow,
  type RequestLogSummaryRow,
  type StatusRange,
  SUMMARY_COLUMNS as REQUEST_LOG_SUMMARY_COLUMNS,
} from './request-log.ts';
export { type NewResponseRecord, type ResponseRecord, ResponsesRepo } from './responses.ts';
export {
  type Team,
  type TeamBudget,
  type TeamInput,
  type TeamLimits,
  type TeamPatch,
  TeamsRepo,
} from './teams.ts';
export type { Database } from './types.ts';
export {
  groupByLabel,
  type UsageFigures,
  type UsageGroup,
  type UsagePoint,
  UsageRepo,
  type UsageReport,
} from './usage.ts';
export {
  BUCKET_MS,
  DEFAULT_BUCKETS,
  GROUP_LIMIT,
  MAX_SPAN_MS,
  type UsageBucket,
  type UsageQuery,
} from './usage-query.ts';
export {
  type CreateRunInput,
  type CreateRunResult,
  isVersionConflict,
  type ListRunsQuery,
  type ListWorkflowsQuery,
  type NewRunEvent,
  type RunChange,
  type StoredWorkflow,
  type StoreWorkflowResult,
  type TransitionOptions,
  type TransitionStage,
  UNFINISHED_STATUSES,
  type WorkflowInput,
  WorkflowsRepo,
  type WorkflowsRepoOptions,
} from './workflows.ts';
