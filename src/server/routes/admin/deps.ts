import type { Alerts } from '../../../alerts/index.ts';
import type { AuditLog } from '../../../audit/index.ts';
import type { Gateway } from '../../../gateway/index.ts';
import type { Learner } from '../../../learning/index.ts';
import type { Store } from '../../../store/index.ts';
import type { Logger } from '../../../telemetry/index.ts';

export interface AdminDeps {
  gateway: Gateway;
  store: Store;
  /** The admin API answers 401 to everyone while this is unset. */
  masterKey: string | undefined;
  /** What the router learns from outcomes (absent: learning is off). */
  learning?: Learner | undefined;
  /** Clock for key status (active/expired); pass the store's when it has its own. Default Date.now. */
  now?: () => number;
  /** Budget alerts, for the test endpoint (GET /admin/alerts reads the store either way). */
  alerts?: Alerts | undefined;
  /** Where an audit entry the store could not take is written instead. */
  logger?: Logger | undefined;
}

/** What the admin routes are registered with: the deps, and the audit log built from them once. */
export interface AdminContext extends AdminDeps {
  audit: AuditLog;
}
