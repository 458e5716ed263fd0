/**
 * The store `quorum keys` and `quorum spend` read: the one `quorum serve` opens (QUORUM_DATABASE_URL,
 * else the SQLite default), or `--database`. Which one was opened is said on stderr, so a wrong
 * environment is visible while `--json` on stdout stays clean.
 */
import { existsSync } from 'node:fs';
import {
  DEFAULT_DATABASE_URL,
  databaseUrlFrom,
  describeDatabase,
  parseDatabaseUrl,
} from '../store/database-url.ts';
import { openStore, type Store } from '../store/index.ts';
import { usage } from './args.ts';

export { DEFAULT_DATABASE_URL };

const err = (text: string) => process.stderr.write(text);

/** Opens the gateway's store, or prints why it cannot and returns the exit code. */
export async function openCliStore(command: string, flag: string | undefined): Promise<Store | number> {
  const url = flag ?? databaseUrlFrom(process.env);
  let name: string;
  let file: string | null = null;
  try {
    const target = parseDatabaseUrl(url);
    name = describeDatabase(url);
    if (target.engine === 'sqlite' && target.path !== ':memory:') file = name.slice('sqlite:'.length);
  } catch (e) {
    return usage(command, (e as Error).message);
  }
  // Opening would create an empty database: that is never the one the gateway uses.
  if (file !== null && !existsSync(file)) {
    const from =
      flag !== undefined
        ? `--database ${flag}`
        : process.env.QUORUM_DATABASE_URL
          ? `QUORUM_DATABASE_URL=${process.env.QUORUM_DATABASE_URL}`
          : `the default, ${DEFAULT_DATABASE_URL} in ${process.cwd()}`;
    err(
      `quorum ${command}: no database at ${file} (from ${from}); nothing was created. ` +
        'QUORUM_DATABASE_URL or --database choose the store `quorum serve` uses ' +
        '(e.g. sqlite:/var/lib/quorum/quorum.db or postgres://user@host/db).\n',
    );
    return 1;
  }
  try {
    const store = await openStore(url);
    err(`store: ${name}\n`);
    return store;
  } catch (e) {
    err(`quorum ${command}: ${(e as Error).message}\n`);
    return 1;
  }
}
