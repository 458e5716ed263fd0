/**
 * The load shapes the main bench (bench/run.ts) and the race (bench/race.ts) share: a closed-loop
 * autocannon phase with raw response times, one streaming request timed to its first chunk, and the
 * /proc readings (CPU time, RSS) of a child process.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { round, type Summary, summarise } from './stats.ts';

export const JSON_HEADERS = { 'content-type': 'application/json', authorization: 'Bearer bench' };

export interface LoadResult {
  reqPerSec: number;
  requests: number;
  errors: number;
  non2xx: number;
  latencyMs: Summary;
}

export interface LoadOptions {
  seconds: number;
  connections: number;
  /** Keep every response time (fractional ms); false for a warm-up. */
  record: boolean;
  body: string;
  headers?: Record<string, string>;
}

/** POST /v1/chat/completions in a closed loop: `connections` requests always outstanding. */
export async function load(url: string, o: LoadOptions): Promise<LoadResult> {
  const samples: number[] = [];
  const instance = autocannon({
    url: `${url}/v1/chat/completions`,
    method: 'POST',
    headers: o.headers ?? JSON_HEADERS,
    body: o.body,
    connections: o.connections,
    duration: o.seconds,
    timeout: 10,
  });
  // autocannon's own histogram has 1 ms resolution; keep the raw (fractional ms) response times.
  if (o.record)
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) =>
      samples.push(ms),
    );
  const result = await instance;
  return {
    reqPerSec: round(result.requests.total / (result.duration || o.seconds), 0),
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    latencyMs: summarise(samples),
  };
}

export interface StreamSample {
  ttfc: number;
  total: number;
}

/** One streaming request: time to the first `data:` line, and to the end of the body ([DONE] checked). */
export async function oneStream(
  url: string,
  body: string,
  headers: Record<string, string> = JSON_HEADERS,
): Promise<StreamSample> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body });
  if (!r.ok || !r.body) throw new Error(`stream request to ${url} failed: HTTP ${r.status}`);
  const decoder = new TextDecoder();
  let ttfc = -1;
  let text = '';
  for await (const chunk of r.body) {
    if (ttfc < 0) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes('data:')) ttfc = performance.now() - t0;
    } else if (text.length < 64) {
      text += decoder.decode(chunk, { stream: true });
    } else {
      text = text.slice(-32) + decoder.decode(chunk, { stream: true });
    }
  }
  const total = performance.now() - t0;
  if (ttfc < 0) throw new Error(`stream from ${url} ended without a data: line`);
  if (!text.includes('[DONE]')) throw new Error(`stream from ${url} did not end with data: [DONE]`);
  return { ttfc, total };
}

// ---------------------------------------------------------------------------------------------- /proc

/** VmRSS / VmHWM of a process in MB (Linux /proc); null elsewhere. */
export function memOf(pid: number): { rssMb: number; hwmMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: round(kb('VmRSS') / 1024, 1), hwmMb: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return null;
  }
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // the Linux default (USER_HZ)
    }
  }
  return ticksPerSecond;
}

/**
 * User + system CPU time a process has used so far, in µs (/proc/<pid>/stat utime + stime, all its
 * threads: the JS thread, libuv's pool, the GC helpers). Clock-tick resolution (10 ms), so read it
 * around phases of seconds. Null when /proc is not there.
 */
export function cpuTimeUs(pid: number): number | null {
  return statCpuUs(`/proc/${pid}/stat`);
}

/**
 * The same for the process's main thread alone (its JavaScript event loop; /proc/<pid>/task/<pid>):
 * what is left when the writer thread, libuv's pool and V8's helper threads are taken out.
 */
export function mainThreadCpuUs(pid: number): number | null {
  return statCpuUs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuUs(path: string): number | null {
  try {
    const stat = readFileSync(path, 'utf8');
    // the command name (field 2) may contain spaces; the fields after it are space-separated
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
    return Number.isFinite(ticks) ? (ticks * 1e6) / clockTicks() : null;
  } catch {
    return null;
  }
}
