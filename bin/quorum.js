#!/usr/bin/env node
// The `quorum` command: the compiled build when it is fresh (faster start-up, less memory), else the
// TypeScript sources run by Node's type stripping (Node >= 22.18 / 23.6 by default). Older 22.x
// releases need the flag, so re-run ourselves with it there.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { builtEntry, SOURCE_ENTRY } from '../scripts/entry.mjs';

const built = builtEntry();
if (built) {
  await import(built);
} else if (process.features.typescript) {
  await import(SOURCE_ENTRY);
} else {
  const result = spawnSync(
    process.execPath,
    ['--experimental-strip-types', '--no-warnings', fileURLToPath(SOURCE_ENTRY), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
}
