import type { Kysely } from 'kysely';
import type { Engine } from './migrations.ts';
import type { Database } from './types.ts';

/** What every repository is built from. */
export interface StoreContext {
  db: Kysely<Database>;
  engine: Engine;
  /** Clock in epoch ms (tests move it to expire keys). */
  now: () => number;
}
