/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time,
 * and self time grouped by package / source area.
 *
 *   node bench/profile-summary.ts bench/results/profiles/<file>.cpuprofile [--top 25]
 *   (no file: the newest .cpuprofile in bench/results/profiles/)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('/node_modules/');
  if (nm >= 0) return clean.slice(nm + '/node_modules/'.length);
  const cwd = `${process.cwd()}/`;
  return clean.startsWith(cwd) ? clean.slice(cwd.length) : clean;
}

/** The package (node_modules) or top-level source folder a frame belongs to. */
function areaOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) {
    const n = frame.functionName;
    if (n === '(garbage collector)') return '(gc)';
    if (n === '(idle)' || n === '(program)' || n === '(root)') return n;
    return '(native)';
  }
  if (url.startsWith('node:')) return url.split('/')[0] ?? url;
  const short = shortUrl(url);
  if (url.includes('/node_modules/')) {
    const parts = short.split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? short);
  }
  const parts = short.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : short;
}

/** True for frames in application or package code (not node: internals, natives or GC). */
function isUserFrame(frame: CallFrame): boolean {
  return frame.url !== '' && !frame.url.startsWith('node:') && !frame.url.startsWith('wasm:');
}

export function summarise(
  profile: CpuProfile,
  top = 25,
): { totalMs: number; busyMs: number; hotspots: Hotspot[]; areas: Hotspot[]; callers: Hotspot[] } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // The nearest package/app frame at or above a node: who asked for the time spent in internals.
  const ownerCache = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const cached = ownerCache.get(id);
    if (cached !== undefined) return cached;
    let cur: number | undefined = id;
    let owner = '(no package frame: event loop / runtime)';
    while (cur !== undefined) {
      const node = byId.get(cur);
      if (!node) break;
      if (isUserFrame(node.callFrame)) {
        owner = areaOf(node.callFrame);
        break;
      }
      cur = parent.get(cur);
    }
    ownerCache.set(id, owner);
    return owner;
  };
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    // timeDeltas[i] is the time before sample i; attribute the following delta to this sample.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const totalUs = profile.endTime - profile.startTime;
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const area = new Map<string, number>();
  const caller = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName}|${where}`;
    const entry = fn.get(key) ?? { name: f.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    fn.set(key, entry);
    const a = areaOf(f);
    area.set(a, (area.get(a) ?? 0) + us);
    const o = f.functionName === '(garbage collector)' ? '(gc)' : ownerOf(id);
    caller.set(o, (caller.get(o) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const hotspots = [...fn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: e.us / busyUs }));
  const areas = [...area.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, where: '', selfMs: us / 1000, share: us / busyUs }));
  const callers = [...caller.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, where: '', selfMs: us / 1000, share: us / busyUs }));
  return { totalMs: totalUs / 1000, busyMs: busyUs / 1000, hotspots, areas, callers };
}

function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0];
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const file =
    args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--top') ??
    newestProfile(resolve('bench/results/profiles'));
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const s = summarise(profile, top);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  console.log(`${file}\nwall ${s.totalMs.toFixed(0)} ms, busy (non-idle) ${s.busyMs.toFixed(0)} ms\n`);
  console.log('self time by area (share of busy time):');
  for (const a of s.areas.slice(0, 15))
    console.log(`  ${pct(a.share)}  ${a.selfMs.toFixed(0).padStart(7)} ms  ${a.name}`);
  console.log(
    '\nself time charged to the nearest package/app frame (node internals count for their caller):',
  );
  for (const a of s.callers.slice(0, 15))
    console.log(`  ${pct(a.share)}  ${a.selfMs.toFixed(0).padStart(7)} ms  ${a.name}`);
  console.log('\ntop functions by self time (share of busy time):');
  for (const h of s.hotspots)
    console.log(`  ${pct(h.share)}  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}  ${h.where}`);
}
