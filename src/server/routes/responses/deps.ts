/** What the Responses routes are built with. */
import type { Gateway } from '../../../gateway/index.ts';
import type { Store } from '../../../store/index.ts';
import type { Logger } from '../../../telemetry/index.ts';

export interface ResponsesDeps {
  gateway: Gateway;
  /** Absent: nothing is stored (responses say `store: false`) and nothing can be continued. */
  store: Store | undefined;
  logger: Logger;
}
