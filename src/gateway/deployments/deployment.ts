import type { ModelSpec } from '../../../routing/types.ts';
import type { ProviderConfig } from '../../config/index.ts';
import type { ProviderAdapter } from '../../providers/types.ts';

/** One catalog entry bound to the adapter that serves it. */
export interface Deployment {
  spec: ModelSpec;
  provider: ProviderConfig;
  adapter: ProviderAdapter;
}

/** One try at one deployment, as reported in `quorum.attempts`. */
export interface Attempt {
  model: string;
  provider: string;
  /** HTTP status; 200 = answered. Failures without an HTTP answer use 504 (timeout) or 502. */
  status: number;
  error?: string;
  latency_ms: number;
}
