/**
 * The admin API, behind QUORUM_MASTER_KEY: teams, keys, spend, budget alerts, the audit log and the
 * learnt quality. Changes are in the store, which request authentication reads, so they apply to new
 * requests without a restart; each change is recorded in the audit log.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AuditLog } from '../../../audit/index.ts';
import type { AppEnv } from '../../env.ts';
import { registerAdminAlerts } from './alerts.ts';
import { registerAdminAudit } from './audit.ts';
import { adminAuth } from './auth.ts';
import { registerAdminBudgets } from './budgets.ts';
import type { AdminContext, AdminDeps } from './deps.ts';
import { registerAdminKeys } from './keys.ts';
import { registerAdminQuality } from './quality.ts';
import { registerAdminSpend } from './spend.ts';
import { registerAdminTeams } from './teams.ts';

export { recordAction } from './audit.ts';
export type { AdminContext, AdminDeps } from './deps.ts';

export function registerAdmin(app: OpenAPIHono<AppEnv>, deps: AdminDeps) {
  const { config } = deps.gateway;
  // Every secret this process knows, so none can reach the audit log even by mistake.
  const secrets = [
    ...(deps.masterKey ? [deps.masterKey] : []),
    ...config.keys.map((k) => k.key),
    ...config.alerts.webhooks.map((w) => w.secret),
  ];
  const ctx: AdminContext = {
    ...deps,
    audit: new AuditLog(deps.store.audit, { secrets, ...(deps.logger ? { logger: deps.logger } : {}) }),
  };
  app.use('/admin/*', adminAuth(config, deps.store, deps.masterKey));
  registerAdminTeams(app, ctx);
  registerAdminKeys(app, ctx);
  registerAdminBudgets(app, ctx);
  registerAdminSpend(app, ctx);
  registerAdminAlerts(app, ctx);
  registerAdminAudit(app, ctx);
  registerAdminQuality(app, ctx);
}
