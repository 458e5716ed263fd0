/**
 * `npm run build`: the TypeScript sources compiled to JavaScript in dist/ (same layout, so
 * dist/src/config/load.js finds the catalog at dist/config/models.yaml), for `npm start` and the Docker
 * image. Node runs the sources directly too; the build saves the type stripper's start-up time and
 * memory (see docs/decisions.md). Type checking is `npm run typecheck`'s job, not this one's.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const DIST = join(ROOT, 'dist');

rmSync(DIST, { recursive: true, force: true });
const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync(join(DIST, 'config'), { recursive: true });
copyFileSync(join(ROOT, 'config/models.yaml'), join(DIST, 'config/models.yaml'));
// The dashboard's files are served as they are (plain JavaScript, CSS, SVG): no compiling, only copying.
cpSync(join(ROOT, 'src/ui'), join(DIST, 'src/ui'), { recursive: true });
// Build output, never committed; written last, so scripts/start.mjs knows the build finished.
writeFileSync(join(DIST, '.gitignore'), '*\n');
writeFileSync(join(DIST, 'BUILT'), `${new Date().toISOString()}\n`);
process.stdout.write(`built ${DIST}\n`);
