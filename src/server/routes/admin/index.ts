/**
 * The admin API, behind QUORUM_MASTER_KEY: teams, keys, spend and the learnt quality. Changes are in the
 * store, which request authentication reads, so they apply to new requests without a restart.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.ts';
import { adminAuth } from './auth.ts';
import type { AdminDeps } from './deps.ts';
import { registerAdminKeys } from './keys.ts';
import { registerAdminQuality } from './quality.ts';
import { registerAdminSpend } from './spend.ts';
import { registerAdminTeams } from './teams.ts';

export type { AdminDeps } from './deps.ts';

export function registerAdmin(app: OpenAPIHono<AppEnv>, deps: AdminDeps) {
  app.use('/admin/*', adminAuth(deps.gateway.config, deps.store, deps.masterKey));
  registerAdminTeams(app, deps);
  registerAdminKeys(app, deps);
  registerAdminSpend(app, deps);
  registerAdminQuality(app, deps);
}
