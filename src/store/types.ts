/**
 * The persistent tables, one Kysely schema for SQLite (node:sqlite) and Postgres (pg). Times are epoch
 * milliseconds (integers) so range queries and ordering are identical on both engines; money is integer
 * nano-dollars (see src/limits/types.ts).
 */
import type { Generated } from 'kysely';
import type { EventType, RunStatus } from '../workflows/state.ts';

export interface TeamsTable {
  id: string;
  budget_limit_usd: number | null;
  budget_period: 'daily' | 'weekly' | 'monthly' | 'total' | null;
  soft_limit_usd: number | null;
  /** JSON array of the budget's alert thresholds (percent), or null for none. */
  budget_alerts: string | null;
  rpm: number | null;
  tpm: number | null;
  /** JSON array of allowed model names, or null for all. */
  models: string | null;
  created_at: number;
  updated_at: number;
  /** JSON `{budgets?, end_users?, tags?}`: further windows, end-user and tag budgets; null for none. */
  scopes?: string | null;
}

export interface KeysTable {
  id: string;
  team_id: string;
  name: string;
  /** SHA-256 of pepper + key, base64url. The key itself is never stored. */
  key_hash: string;
  /** The first characters of the key, for recognising it in lists (e.g. `qk-3f9a…`). */
  prefix: string;
  rpm: number | null;
  tpm: number | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  /** JSON array of the key's own budget windows, or null for none. */
  budgets: string | null;
}

/** A temporary raise of one budget scope's limit (src/limits/overrides). */
export interface BudgetOverridesTable {
  id: string;
  /** The scope's counter subject (src/limits/scopes.ts). */
  subject: string;
  scope: 'team' | 'key' | 'user' | 'tag';
  team_id: string;
  scope_id: string;
  /** The window raised; null: every window of the scope. */
  period: 'daily' | 'weekly' | 'monthly' | 'total' | null;
  limit_usd: number;
  reason: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface LedgerTable {
  id: Generated<number>;
  request_id: string;
  team_id: string;
  key_id: string | null;
  model: string;
  provider: string;
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
  cost_nanos: number;
  latency_ms: number;
  /** HTTP status of the upstream call; 200 = answered. */
  status: number;
  /** JSON object of the request's `quorum.tags`. */
  tags: string | null;
  created_at: number;
  /** The key's name: a stored key's, or a config key's (whose `key_id` is `static:<name>`). */
  key_name: string | null;
  /** The end user the client named: `user` (OpenAI bodies), `metadata.user_id` (Anthropic Messages). */
  end_user: string | null;
  /** The endpoint that made the call (`chat.completions`, `messages`, …) or `workflow` for a step's. */
  surface: string | null;
  /** A workflow step's calls: the run's id and the step's name. */
  workflow_run: string | null;
  workflow_step: string | null;
  /** JSON array of the tags as `name:value`, sorted by name: a multi-tag request's cost splits over it. */
  tag_pairs: string | null;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** One version of a workflow definition; versions of a team's name count 1, 2, 3… */
export interface WorkflowsTable {
  id: string;
  /** The team that stored it: only that team (and the operator) may read or run it. */
  team_id: string;
  name: string;
  version: number;
  /** JSON of the validated definition. */
  definition: string;
  created_at: number;
}

export interface RunsTable {
  id: string;
  workflow_id: string;
  status: RunStatus;
  /** JSON object. */
  inputs: string;
  /** JSON object, once the run has outputs. */
  outputs: string | null;
  /** Integer nano-dollars spent by the run so far. */
  cost_nanos: number;
  /** The team and key that started the run (no foreign keys: runs outlive both, like the ledger). */
  team_id: string;
  key_id: string | null;
  /** The `Idempotency-Key` of the creating request; unique per team when present. */
  idempotency_key: string | null;
  error: string | null;
  /**
   * Bumped by every transition: a change made from a read of the run commits only if nothing else
   * changed it since (several instances on one store; 0010).
   */
  version: number;
  /**
   * `max_cost_usd` across instances (0012): what the run's capped calls have cost (null: not counted
   * yet, which is `cost_nanos`) and the worst cases of its calls in flight, held before each call.
   */
  cap_spent_nanos: number | null;
  cap_held_nanos: number;
  created_at: number;
  updated_at: number;
}

export interface RunStepsTable {
  run_id: string;
  step: string;
  /** JSON of the step's `StepState`. */
  state: string;
  updated_at: number;
}

export interface RunEventsTable {
  run_id: string;
  /** 1, 2, 3… per run, without gaps. */
  seq: number;
  type: EventType;
  step: string | null;
  /** JSON object. */
  data: string | null;
  at: number;
}

/** A stored Responses API object: the request's input items and the answer, owned by a team. */
export interface ResponsesTable {
  /** `resp_…`, the id the client saw. */
  id: string;
  /** The team that made it: only it (and the operator) may read, chain from or delete it. */
  team_id: string;
  key_id: string | null;
  previous_response_id: string | null;
  /** JSON array of the ids of every earlier response in its conversation, oldest first. */
  chain: string;
  /** JSON array of the request's own input items (each with its id). */
  input: string;
  /** JSON of the Response object as the client received it. */
  response: string;
  created_at: number;
}

/**
 * One proxied request, as the request log keeps it (src/store/request-log.ts). The filterable facts
 * are columns; the route decision, the attempts and a fan-out's panel are JSON in `detail`; prompt and
 * answer text, only with content logging on, JSON in `content`.
 */
export interface RequestLogTable {
  /** The request id (`x-quorum-request-id`). */
  id: string;
  /** When the request arrived, epoch ms. */
  created_at: number;
  team_id: string;
  /** A stored key's id, `static:<name>` for a config key, null for the master key and open mode. */
  key_id: string | null;
  key_name: string | null;
  /** chat.completions, consensus, reviews, responses, messages, messages.count_tokens, embeddings. */
  surface: string;
  /** The model the client asked for (null when the body named none, or was unreadable). */
  model: string | null;
  /** The models that answered, comma-separated. */
  models: string | null;
  /** The HTTP status the client got. */
  status: number;
  error_code: string | null;
  error_message: string | null;
  /** 1 for a streamed answer. */
  stream: number;
  /** `hit` or `miss` when the request was cacheable. */
  cache: string | null;
  /** JSON object of the request's tags. */
  tags: string | null;
  input_tokens: number;
  output_tokens: number;
  /** What the request was charged, integer nano-dollars. */
  cost_nanos: number;
  /** Arrival to the last byte, ms. */
  latency_ms: number;
  /** Time spent in the gateway itself, ms (`x-quorum-overhead-ms`). */
  overhead_ms: number | null;
  /** JSON: `{attempts, route?, panel?}`. */
  detail: string | null;
  /** JSON: `{messages?, input?, answer?}`; null unless content logging was on. */
  content: string | null;
}

/**
 * One budget alert (src/store/alerts.ts): a threshold or soft limit of one scope's budget window,
 * crossed in one period. `dedupe_key` is unique, so the alert is recorded once however many instances
 * (or restarts) see the crossing.
 */
export interface AlertsTable {
  /** `alt_…`, also the `id` of the webhook body and the `x-quorum-alert-id` header. */
  id: string;
  /** `<scope>:<scope_id>|<window>|<period>|<threshold or soft>`. */
  dedupe_key: string;
  /** `threshold` (a percent of the limit) or `soft_limit`. */
  kind: string;
  /** `team`, `key`, `user` or `tag`. */
  scope: string;
  scope_id: string;
  team_id: string;
  /** The budget's period kind: daily, weekly, monthly, total. */
  budget_window: string;
  /** The period's key (`2026-11`, `2026-W47`, `2026-11-22`, `total`). */
  period: string;
  /** The percent crossed; null for a soft limit. */
  threshold: number | null;
  limit_usd: number;
  soft_limit_usd: number | null;
  /** Spend when the crossing was seen. */
  spent_usd: number;
  /** The webhook body (JSON), the same bytes for every try. */
  body: string;
  created_at: number;
}

/** One alert's delivery to one webhook: its state, tries and lease. */
export interface AlertDeliveriesTable {
  alert_id: string;
  /** The webhook's name (alerts.webhooks[].name, default its host); never its URL. */
  webhook: string;
  status: 'pending' | 'delivered' | 'failed';
  /** Tries started so far. */
  attempts: number;
  /** Epoch ms the next try is due. */
  next_attempt_at: number;
  /** While a try is under way: epoch ms its claim lapses (a crashed sender's claim is taken over). */
  lease_until: number | null;
  lease_owner: string | null;
  last_attempt_at: number | null;
  last_http_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

/** One admin action (src/store/audit.ts): who, what, when, on what; never a secret. */
export interface AuditLogTable {
  /** `aud_…`. */
  id: string;
  created_at: number;
  /** `master_key`, `cli:<os user>`, … */
  actor: string;
  /** `team.create`, `team.update`, `team.delete`, `key.create`, `key.revoke`, `alerts.test`, … */
  action: string;
  /** `team:<id>`, `key:<id>`, … */
  target: string | null;
  /** JSON object: the change, without secrets. */
  details: string | null;
  /** The admin request's id (`x-quorum-request-id`), when it came over HTTP. */
  request_id: string | null;
}

export interface Database {
  teams: TeamsTable;
  keys: KeysTable;
  budget_overrides: BudgetOverridesTable;
  ledger: LedgerTable;
  meta: MetaTable;
  workflows: WorkflowsTable;
  runs: RunsTable;
  run_steps: RunStepsTable;
  run_events: RunEventsTable;
  responses: ResponsesTable;
  request_log: RequestLogTable;
  alerts: AlertsTable;
  alert_deliveries: AlertDeliveriesTable;
  audit_log: AuditLogTable;
  learned_quality: LearnedQualityTable;
  learning_control: LearningControlTable;
  learning_subjects: LearningSubjectsTable;
}

/** Decayed sums per model and category, as of `updated_at` (see src/store/learning.ts). */
export interface LearnedQualityTable {
  model: string;
  category: string;
  /** Σ weight × score, decayed to `updated_at`. */
  successes: number;
  /** Σ weight, decayed to `updated_at`. */
  trials: number;
  updated_at: number;
}

/** The operator's hold on learning: scope `*` (everything) or a model id. */
export interface LearningControlTable {
  scope: string;
  /** Set while learning is frozen (scope `*` only). */
  frozen_at: number | null;
  /** Observations made before this are not counted (a reset). */
  reset_at: number | null;
}

/** Who answered a recent request, in what category: feedback on it finds its model from any instance. */
export interface LearningSubjectsTable {
  request_id: string;
  team_id: string;
  model: string;
  category: string;
  created_at: number;
  /** Set by the first feedback (or correction) counted; later ones are not. */
  feedback_at: number | null;
  feedback_score: number | null;
  feedback_comment: string | null;
}
