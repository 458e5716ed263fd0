/**
 * Install-wide values in `meta`. The key pepper is made once, on the first open, and must never change:
 * every stored key hash depends on it. Insert-if-absent then read back, so two processes opening a new
 * database at once agree on one pepper.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './types.ts';

export const PEPPER_KEY = 'key_pepper';

export async function ensurePepper(db: Kysely<Database>): Promise<string> {
  await db
    .insertInto('meta')
    .values({ key: PEPPER_KEY, value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', PEPPER_KEY)
    .executeTakeFirstOrThrow();
  return row.value;
}
