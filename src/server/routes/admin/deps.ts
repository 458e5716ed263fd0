import type { Gateway } from '../../../gateway/index.ts';
import type { Learner } from '../../../learning/index.ts';
import type { Store } from '../../../store/index.ts';

export interface AdminDeps {
  gateway: Gateway;
  store: Store;
  /** The admin API answers 401 to everyone while this is unset. */
  masterKey: string | undefined;
  /** What the router learns from outcomes (absent: learning is off). */
  learning?: Learner | undefined;
  /** Clock for key status (active/expired); pass the store's when it has its own. Default Date.now. */
  now?: () => number;
}
