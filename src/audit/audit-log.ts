/**
 * Recording and reading admin actions. `record` is called by every admin route that changes
 * something, after the change succeeded: the entry is scrubbed of secrets and written to the store. A
 * write that fails does not undo the change or fail the answer: the entry goes to the log instead,
 * at error level, so it is not lost.
 */
import type { AuditQuery, AuditRepo, AuditRow } from '../store/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { scrub } from './scrub.ts';

/** Who acted: `master_key`, `cli:<os user>`; never a secret. */
export type Actor = string;

export interface AuditEntry {
  actor: Actor;
  /** `team.create`, `team.update`, `team.delete`, `key.create`, `key.revoke`, `alerts.test`, … */
  action: string;
  /** What it acted on: `team:<id>`, `key:<id>`, `webhook:<name>`; null when nothing in particular. */
  target: string | null;
  /** The change: input fields, the state before; anything secret is removed. */
  details?: Record<string, unknown> | undefined;
  /** The request's id, when it came over HTTP. */
  requestId?: string | undefined;
}

/** An entry as the admin API shows it. */
export interface AuditView {
  id: string;
  object: 'audit_entry';
  created_at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  request_id: string | null;
}

export function auditView(row: AuditRow): AuditView {
  return {
    id: row.id,
    object: 'audit_entry',
    created_at: new Date(row.created_at).toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    request_id: row.request_id,
  };
}

export class AuditLog {
  readonly #repo: AuditRepo;
  readonly #logger: Logger | undefined;
  readonly #secrets: readonly string[];

  /** `secrets`: values that must never be written (the master key, static keys, webhook secrets). */
  constructor(repo: AuditRepo, options: { logger?: Logger; secrets?: readonly string[] } = {}) {
    this.#repo = repo;
    this.#logger = options.logger;
    this.#secrets = options.secrets ?? [];
  }

  async record(entry: AuditEntry): Promise<void> {
    const clean = {
      actor: String(scrub(entry.actor, this.#secrets)),
      action: entry.action,
      target: entry.target === null ? null : String(scrub(entry.target, this.#secrets)),
      details: entry.details ? JSON.stringify(scrub(entry.details, this.#secrets)) : null,
      requestId: entry.requestId ?? null,
    };
    try {
      await this.#repo.append(clean);
    } catch (err) {
      this.#logger?.error(
        { err, audit: clean },
        `audit: could not store "${entry.action}"; logged here instead`,
      );
    }
  }

  async list(query: AuditQuery): Promise<AuditView[]> {
    return (await this.#repo.list(query)).map(auditView);
  }
}
