/** The dashboard's read API over the ledger and budgets, scoped like `GET /v1/budget`. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Gateway } from '../../../gateway/index.ts';
import type { Store } from '../../../store/index.ts';
import type { AppEnv } from '../../env.ts';
import { registerUsageBudgets } from './budgets.ts';
import { registerUsageReport } from './report.ts';

export function registerUsage(app: OpenAPIHono<AppEnv>, gateway: Gateway, store: Store) {
  registerUsageBudgets(app, gateway, store);
  registerUsageReport(app, store);
}
