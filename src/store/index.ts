/** The persistence layer: `openStore(QUORUM_DATABASE_URL)` and the shapes its repositories speak. */
export {
  type AlertListQuery,
  type AlertRow,
  AlertsRepo,
  type ClaimedDelivery,
  type DeliveryRow,
  newAlertId,
  type StoredAlert,
  type TryOutcome,
} from './alerts.ts';
export { type AuditQuery, AuditRepo, type AuditRow, type NewAuditEntry } from './audit.ts';
export { parseDatabaseUrl, redactUrl } from './database-url.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export {
  type CreatedKey,
  hashKey,
  KEY_PREFIX,
  type KeyBudget,
  type KeyInfo,
  type KeyInput,
  type KeyLookup,
  type KeyStatus,
  KeysRepo,
} from './keys.ts';
export type { KeysetCursor } from './keyset.ts';
export {
  ALL_MODELS,
  type LearnedRow,
  type LearningControl,
  LearningRepo,
  type ObservationRow,
  type SubjectRow,
} from './learning.ts';
export { Ledger, type LedgerEntry, type LedgerOptions } from './ledger.ts';
export type { LedgerFigures } from './ledger-sql.ts';
export { LedgerWriter, type LedgerWriterOptions } from './ledger-writer.ts';
export type { Engine } from './migrations.ts';
export { type OpenStoreOptions, openStore, type Store } from './open.ts';
export { type NewOverride, type OverrideRow, OverridesRepo } from './overrides.ts';
export { cachedProbe, type ProbeOptions, type StoreProbe } from './probe.ts';
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
export { type SpendPage, SpendRepo, type SpendRow } from './spend.ts';
export { spendCsv, spendCsvColumns } from './spend-csv.ts';
export { resolveSpendQuery, SPEND_DIMENSIONS, SPEND_LIMIT, type SpendQuery } from './spend-query.ts';
export {
  type Team,
  type TeamBudget,
  type TeamInput,
  type TeamLimits,
  type TeamPatch,
  type TeamScopes,
  TeamsRepo,
} from './teams.ts';
export type { AlertsTable, Database } from './types.ts';
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
  type CostHold,
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
