/**
 * The race's tables as Markdown, for docs/benchmarks.md, from a results file of `npm run bench`
 * (bench/results/latest.json) or `npm run bench -- --race-only` (bench/results/race.json):
 *
 *   node bench/race-markdown.ts [bench/results/latest.json]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './children.ts';
import type { DoneWhenRow, RaceResult, RaceSide, SideName } from './race.ts';

const file = process.argv[2] ?? join(ROOT, 'bench', 'results', 'latest.json');
const data = JSON.parse(readFileSync(file, 'utf8')) as {
  date: string;
  mode: string;
  code?: { commit: string | null; sourcesChanged: string[] };
  machine: { loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  race: RaceResult;
  doneWhen: DoneWhenRow[];
  elapsedS: number;
};
const r = data.race;
const f = (x: number | null | undefined, d = 2) =>
  x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a';
const names: SideName[] = ['direct', 'floor', 'quorum', 'quorum auto', 'portkey'];
const present = names.filter((n) => r.sides[n]);
const label: Record<SideName, string> = {
  direct: 'direct',
  floor: 'floor',
  quorum: 'Quorum',
  'quorum auto': 'Quorum `auto`',
  portkey: `Portkey ${r.peer.version}`,
};
const row = (head: string, get: (s: RaceSide) => string) =>
  `| ${head} | ${present.map((n) => get(r.sides[n]!)).join(' | ')} |`;
const direct = r.sides.direct;
const out = [
  `${data.date} (${data.mode}), code at \`${data.code?.commit ?? '?'}\`${data.code?.sourcesChanged.length ? ` plus uncommitted changes to ${data.code.sourcesChanged.length} source files` : ''}; load average ${data.machine.loadAverageAtStart[0]} at the start, ${r.loadAverage.start[0]} → ${r.loadAverage.end[0]} over the race; whole run ${data.elapsedS} s.`,
  '',
  `| median of ${r.settings.rounds} rounds × ${r.settings.durationS} s, ${r.settings.connections} connections | ${present.map((n) => label[n]).join(' | ')} |`,
  `|---|${present.map(() => '---:').join('|')}|`,
  row('non-stream req/s', (s) => String(s.median.reqPerSec)),
  row('÷ direct', (s) => f(s.median.reqPerSec / (direct?.median.reqPerSec ?? Number.NaN), 3)),
  row('latency p50 / p99 (ms)', (s) => `${f(s.median.latencyMs.p50)} / ${f(s.median.latencyMs.p99)}`),
  row('CPU per request (µs)', (s) => f(s.median.cpuUsPerReq, 0)),
  row('of it the main thread (µs)', (s) => f(s.median.mainCpuUsPerReq, 0)),
  row('the fake upstream’s CPU per request (µs)', (s) => f(s.median.upstreamCpuUsPerReq, 0)),
  row(`stream, ${r.settings.streams} sequential in blocks: TTFC p50 / p99 (ms)`, (s) =>
    s.streaming ? `${f(s.streaming.ttfcMs.p50)} / ${f(s.streaming.ttfcMs.p99)}` : '',
  ),
  row('added TTFC p50 over direct (ms)', (s) =>
    s.name === 'direct' || !s.streaming
      ? ''
      : f(s.streaming.ttfcMs.p50 - (direct?.streaming?.ttfcMs.p50 ?? Number.NaN)),
  ),
  row('RSS at start / peak (MB)', (s) =>
    s.name === 'quorum auto'
      ? '(same process)'
      : `${f(s.memory.rssAtStartMb, 0)} / ${f(s.memory.peakRssMb, 0)}`,
  ),
  '',
  `Start-up to listening: Quorum from the sources ${r.startup.quorumMs.map((x) => f(x, 0)).join(' / ')} ms, from the build ${r.startup.buildMs ? `${r.startup.buildMs.map((x) => f(x, 0)).join(' / ')} ms` : `not measured (${r.startup.buildNote})`}; Portkey ${f(r.startup.portkeyMs, 0)} ms.`,
  '',
  '| Done when | this run | |',
  '|---|---|---|',
  ...data.doneWhen.map(
    (d) => `| ${d.target} | ${d.measured} | ${d.pass === null ? '—' : d.pass ? '**pass**' : '**fail**'} |`,
  ),
  '',
];
process.stdout.write(out.join('\n'));
