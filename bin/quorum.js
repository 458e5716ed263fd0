#!/usr/bin/env node
// Quorum's sources are TypeScript run directly by Node's type stripping (Node >= 22.18 / 23.6 by default).
// Older 22.x releases need the flag, so re-run ourselves with it there.
import { spawnSync } from 'node:child_process';

if (process.features.typescript) {
  await import('../src/cli/main.ts');
} else {
  const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
  const result = spawnSync(
    process.execPath,
    ['--experimental-strip-types', '--no-warnings', main, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(result.status ?? 1);
}
