// `npm start`: runs the compiled build (dist/, from `npm run build`) when it is there and newer than
// every source file, else the TypeScript sources. Plain JavaScript on purpose: loading one .ts file
// loads Node's type stripper, the cost the build exists to avoid.
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

const main = fresh() ? join(ROOT, 'dist/src/cli/main.js') : join(ROOT, 'src/cli/main.ts');
await import(pathToFileURL(main).href);
