/**
 * Start-up time and memory of `quorum serve`: milliseconds from spawn to the "listening" log line, and
 * the process's RSS right then, for the TypeScript sources and the compiled build (`npm run build`),
 * with no configuration (the demo) in an empty directory. Median of `--runs` (default 7) each.
 *
 *   node scripts/measure-startup.ts [--runs 7]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function once(entry: string): Promise<{ ms: number; rss: number }> {
  const cwd = mkdtempSync(join(tmpdir(), 'quorum-startup-'));
  const started = performance.now();
  const child = spawn(process.execPath, [entry, 'serve', '--port', '0'], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, QUORUM_LOG_LEVEL: 'info' },
  });
  return new Promise((done, fail) => {
    let out = '';
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      if (!/Quorum listening on/.test(out)) return;
      const ms = performance.now() - started;
      const rss = rssMb(child.pid!);
      child.stdout.removeAllListeners('data');
      child.once('exit', () => {
        rmSync(cwd, { recursive: true, force: true });
        done({ ms, rss });
      });
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => {
      if (!/Quorum listening on/.test(out)) fail(new Error(`${entry} exited ${code}:\n${out}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const entries: [string, string][] = [['sources (type stripping)', join(ROOT, 'src/cli/main.ts')]];
const built = join(ROOT, 'dist/src/cli/main.js');
if (existsSync(built)) entries.push(['build (dist/)', built]);
else process.stderr.write('no dist/: run `npm run build` to measure the compiled build too\n');

for (const [label, entry] of entries) {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await once(entry));
  const ms = median(samples.map((s) => s.ms));
  const rss = median(samples.map((s) => s.rss));
  process.stdout.write(`${label.padEnd(26)} listening after ${ms.toFixed(0)} ms, RSS ${rss.toFixed(0)} MB\n`);
}
