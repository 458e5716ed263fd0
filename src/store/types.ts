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
  rpm: number | null;
  tpm: number | null;
  /** JSON array of allowed model names, or null for all. */
  models: string | null;
  created_at: number;
  updated_at: number;
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

export interface Database {
  teams: TeamsTable;
  keys: KeysTable;
  ledger: LedgerTable;
  meta: MetaTable;
  workflows: WorkflowsTable;
  runs: RunsTable;
  run_steps: RunStepsTable;
  run_events: RunEventsTable;
  responses: ResponsesTable;
  request_log: RequestLogTable;
}
