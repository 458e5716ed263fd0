// Which entry point runs Quorum: the compiled build (dist/, from `npm run build`) when it is there and
// newer than every source file, else null (the TypeScript sources). Plain JavaScript on purpose: loading
// one .ts file loads Node's type stripper, the cost the build exists to avoid. Used by `npm start`
// (scripts/start.mjs) and the `quorum` command (bin/quorum.js).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const BUILT = join(ROOT, 'dist/BUILT');

/** The newest modification time of a file under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function fresh() {
  if (!existsSync(BUILT)) return false;
  const built = statSync(BUILT).mtimeMs;
  const sources = ['src', 'routing', 'consensus'].map((d) => join(ROOT, d)).filter((d) => existsSync(d));
  return (
    sources.every((d) => newest(d) <= built) && statSync(join(ROOT, 'config/models.yaml')).mtimeMs <= built
  );
}

/** The compiled CLI's URL when the build is fresh, else null. */
export function builtEntry() {
  return fresh() ? pathToFileURL(join(ROOT, 'dist/src/cli/main.js')).href : null;
}

/** The sources' CLI (needs Node's type stripping). */
export const SOURCE_ENTRY = pathToFileURL(join(ROOT, 'src/cli/main.ts')).href;
