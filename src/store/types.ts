/**
 * The persistent tables, one Kysely schema for SQLite (node:sqlite) and Postgres (pg). Times are epoch
 * milliseconds (integers) so range queries and ordering are identical on both engines; money is integer
 * nano-dollars (see src/limits/types.ts).
 */
import type { Generated } from 'kysely';

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

export interface Database {
  teams: TeamsTable;
  keys: KeysTable;
  ledger: LedgerTable;
  meta: MetaTable;
}
