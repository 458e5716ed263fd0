/**
 * The audit log of admin actions (who, what, when, on what; never a secret): `AuditLog.record` for the
 * routes and commands that change something, `AuditLog.list` for GET /admin/audit.
 */
export { type Actor, type AuditEntry, AuditLog, type AuditView, auditView } from './audit-log.ts';
export { REDACTED, scrub } from './scrub.ts';
