/**
 * The race: Quorum beside the Portkey gateway (the TypeScript/Hono peer) and the floor (a pass-through
 * proxy with no logic, bench/peers/floor.ts), on the same fake upstream and the same load, so the
 * figures are ratios taken on one machine in one run.
 *
 * Targets: direct (the fake itself), floor, quorum (the named model), quorum auto (`model: "auto"`, the
 * router on), portkey. Each is warmed up, then measured in rounds: every round runs each target once, in
 * turn, starting one target later than the round before, so drift on a shared machine hits all alike;
 * a figure is the median over the rounds.
 *
 * - non-stream load: autocannon, `connections` in a closed loop, raw response times;
 * - CPU per proxied request: the target process's user + system time (/proc/<pid>/stat) across its
 *   load phase ÷ the requests it served; the fake's own CPU in the same phase is kept beside it;
 * - streaming: sequential requests in blocks (a target's block, then the next target's, rotating), time
 *   to the first `data:` line (TTFC);
 * - peak RSS: the process's VmHWM after all its load;
 * - start-up (Quorum): spawn → first 2xx from GET /healthz, polled every 5 ms (runStartups()).
 *
 * `npm run bench` calls runStartups() and runRace() with its own fake and gateway; `npm run bench --
 * --race-only` runs just these.
 */
import { performance } from 'node:perf_hooks';
import { type ChildGroup, type GatewayOptions, type Log, stopChild } from './children.ts';
import {
  cpuTimeUs,
  JSON_HEADERS,
  type LoadResult,
  load,
  mainThreadCpuUs,
  memOf,
  oneStream,
  type StreamSample,
} from './load.ts';
import {
  NODE_SERVER_PIN,
  PORTKEY_PACKAGE,
  PORTKEY_VERSION,
  type PortkeyInstall,
  portkeyHeaders,
  startPortkey,
} from './peers/portkey.ts';
import { columns, loadAverage, round, type Summary, summarise } from './stats.ts';

// ---------------------------------------------------------------------------------------------- targets

/** The issue's "Done when" figures (ratios and per-request costs from the same run). */
export const GOALS = {
  rpsVsPortkey: 3,
  p99VsPortkey: 0.2,
  rpsVsDirect: 0.5,
  addedTtfcMs: 1,
  cpuUsPerRequest: 150,
  cpuVsFloor: 1.5,
  peakRssMb: 150,
  startupMs: 1000,
  routingUs: 50,
  budgetsUs: 50,
};

/** Streams per target come in this many blocks, each after a few unrecorded ones (the process was idle). */
const STREAM_BLOCKS = 4;
const STREAM_WARM = 5;

export type SideName = 'direct' | 'floor' | 'quorum' | 'quorum auto' | 'portkey';

interface Target {
  name: SideName;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Null: not in the streaming race. */
  streamBody: string | null;
  /** The process whose CPU and memory count for this target. */
  pid: number;
}

export interface RaceRound extends LoadResult {
  /** Target process CPU (µs) ÷ requests over the phase. */
  cpuUsPerReq: number | null;
  /** The same for its main thread alone (the event loop; without the writer and V8's helper threads). */
  mainCpuUsPerReq: number | null;
  /** The fake upstream's CPU (µs) ÷ requests over the same phase. */
  upstreamCpuUsPerReq: number | null;
}

export interface RaceSide {
  name: SideName;
  /** Which process: the fake, the floor, Quorum, Portkey. */
  process: string;
  rounds: RaceRound[];
  /** Element-wise medians over the rounds. */
  median: {
    reqPerSec: number;
    latencyMs: Summary;
    cpuUsPerReq: number | null;
    mainCpuUsPerReq: number | null;
    upstreamCpuUsPerReq: number | null;
  };
  errors: number;
  non2xx: number;
  memory: { rssAtStartMb: number | null; peakRssMb: number | null };
  streaming: { ttfcMs: Summary; totalMs: Summary } | null;
}

export interface StartupResult {
  /** Spawn → first 2xx from GET /healthz, each start of the sources (ms). */
  quorumMs: number[];
  quorumMedianMs: number;
  /** The same for the compiled build (what `npm start` and the image run); null when not measured. */
  buildMs: number[] | null;
  buildMedianMs: number | null;
  /** Why the build was not measured. */
  buildNote: string | null;
  /** Spawn → first 2xx from GET / (ms), its one start in the race. */
  portkeyMs: number | null;
}

export interface RaceResult {
  settings: {
    connections: number;
    durationS: number;
    warmupS: number;
    rounds: number;
    streams: number;
    order: string;
  };
  peer: {
    name: string;
    version: string;
    nodeServer: string;
    /** Null when it ran; else why not. */
    skipped: string | null;
    installedNow: boolean;
    installS: number | null;
  };
  floorClient: string;
  sides: Partial<Record<SideName, RaceSide>>;
  startup: StartupResult;
  ratios: {
    quorumVsPortkeyRps: number | null;
    quorumVsPortkeyP99: number | null;
    quorumVsDirectRps: number | null;
    floorVsDirectRps: number | null;
    portkeyVsDirectRps: number | null;
    quorumVsFloorCpu: number | null;
    /**
     * Quorum ÷ floor CPU within each round (the two run seconds apart): steadier than
     * the ratio of the medians when the machine's speed drifts through the run.
     */
    quorumVsFloorCpuByRound: (number | null)[];
    /** The same for the main threads alone: what `bench/instructions.ts` counts on its main-thread column. */
    quorumVsFloorMainCpu: number | null;
    portkeyVsFloorCpu: number | null;
    quorumVsPortkeyCpu: number | null;
    addedTtfcP50Ms: { floor: number | null; quorum: number | null; portkey: number | null };
  };
  loadAverage: { start: number[]; end: number[] };
  elapsedS: number;
}

// ---------------------------------------------------------------------------------------------- helpers

const median = (xs: (number | null)[]): number | null => {
  const s = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function medianSummary(xs: Summary[]): Summary {
  const at = (k: keyof Summary) => round(median(xs.map((x) => x[k])) ?? Number.NaN, 3);
  return {
    n: xs.reduce((a, x) => a + x.n, 0),
    mean: at('mean'),
    p50: at('p50'),
    p90: at('p90'),
    p99: at('p99'),
    max: at('max'),
  };
}

const ratio = (a: number | null | undefined, b: number | null | undefined, digits = 3) =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? null
    : round(a / b, digits);

async function sanity(t: Target): Promise<void> {
  const r = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', headers: t.headers, body: t.body });
  const j = (await r.json().catch(() => null)) as any;
  if (!r.ok || typeof j?.choices?.[0]?.message?.content !== 'string') {
    throw new Error(
      `sanity request to ${t.name} failed: HTTP ${r.status} ${JSON.stringify(j).slice(0, 300)}`,
    );
  }
  if (t.streamBody) await oneStream(t.url, t.streamBody, t.headers);
}

// ---------------------------------------------------------------------------------------------- start-up

/**
 * Quorum's start-up to listening: `n` gateways started one after another (nothing else of the bench
 * loading the machine but the fake), each timed from spawn to its first /healthz answer, then stopped.
 * They share one temp SQLite store, so the first start also creates it.
 */
export async function runStartups(
  group: ChildGroup,
  gateway: Omit<GatewayOptions, 'name'>,
  n: number,
  log: Log,
  label = 'sources',
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = await group.gateway({
      ...gateway,
      name: `start-up gateway ${i + 1}`,
      env: { ...gateway.env, QUORUM_DATABASE_URL: `sqlite:${group.dir}/startup.db` },
    });
    out.push(round(await g.listening(), 1));
    await stopChild(g.child);
  }
  log(`  start-up to listening (Quorum, ${label}): ${out.map((x) => `${x} ms`).join(', ')}`);
  return out;
}

// ---------------------------------------------------------------------------------------------- race

export interface RaceOptions {
  group: ChildGroup;
  log: Log;
  fake: { url: string; pid: number };
  quorum: { url: string; pid: number };
  portkey: PortkeyInstall;
  startupMs: number[];
  /** The compiled build's start-ups, or why there are none. */
  startupBuild: number[] | string;
  connections: number;
  seconds: number;
  warmupS: number;
  rounds: number;
  streams: number;
  body: string;
  autoBody: string;
  streamBody: string;
}

export async function runRace(o: RaceOptions): Promise<RaceResult> {
  const started = performance.now();
  const loadStart = loadAverage();
  const { group, log } = o;

  // the floor and the peer, beside the fake and Quorum
  const floor = await group.upstream('floor proxy', 'bench/peers/floor.ts', {
    ...process.env,
    BENCH_FLOOR_UPSTREAM: o.fake.url,
  });
  const floorClient = String(floor.info.client ?? 'unknown');
  let portkeySkipped: string | null = o.portkey.ok ? null : o.portkey.note;
  let portkeyUrl: string | null = null;
  let portkeyPid: number | null = null;
  let portkeyMs: number | null = null;
  if (o.portkey.ok) {
    try {
      const peer = await startPortkey(group, o.portkey.entry);
      portkeyMs = round(await peer.listening(), 1);
      portkeyUrl = peer.url;
      portkeyPid = peer.child.pid ?? null;
    } catch (err) {
      portkeySkipped = `could not start: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (portkeySkipped) log(`race: Portkey skipped (${portkeySkipped})`);

  const targets: Target[] = [
    {
      name: 'direct',
      url: o.fake.url,
      headers: JSON_HEADERS,
      body: o.body,
      streamBody: o.streamBody,
      pid: o.fake.pid,
    },
    {
      name: 'floor',
      url: floor.url,
      headers: JSON_HEADERS,
      body: o.body,
      streamBody: o.streamBody,
      pid: floor.child.pid as number,
    },
    {
      name: 'quorum',
      url: o.quorum.url,
      headers: JSON_HEADERS,
      body: o.body,
      streamBody: o.streamBody,
      pid: o.quorum.pid,
    },
    {
      name: 'quorum auto',
      url: o.quorum.url,
      headers: JSON_HEADERS,
      body: o.autoBody,
      streamBody: null,
      pid: o.quorum.pid,
    },
  ];
  if (portkeyUrl && portkeyPid) {
    targets.push({
      name: 'portkey',
      url: portkeyUrl,
      headers: { ...JSON_HEADERS, ...portkeyHeaders(o.fake.url) },
      body: o.body,
      streamBody: o.streamBody,
      pid: portkeyPid,
    });
  }
  // The peer is someone else's program: if it fails, the race goes on without it and says why.
  const dropPeer = (why: string) => {
    const i = targets.findIndex((t) => t.name === 'portkey');
    if (i < 0) return;
    targets.splice(i, 1);
    portkeySkipped = why;
    log(`race: Portkey dropped (${why})`);
  };
  for (const t of [...targets]) {
    try {
      await sanity(t);
    } catch (err) {
      if (t.name !== 'portkey') throw err;
      dropPeer(err instanceof Error ? err.message : String(err));
    }
  }
  const rssAtStart = new Map(targets.map((t) => [t.name, memOf(t.pid)?.rssMb ?? null]));

  // non-stream load: warm-up, then rounds with a rotating start
  log(
    `race: ${targets.map((t) => t.name).join(', ')}; ${o.connections} connections, ${o.warmupS} s warm-up each, then ${o.rounds} rounds of ${o.seconds} s each (floor client: ${floorClient})`,
  );
  for (const t of targets) {
    await load(t.url, {
      seconds: o.warmupS,
      connections: o.connections,
      record: false,
      body: t.body,
      headers: t.headers,
    });
  }
  const rounds = new Map<SideName, RaceRound[]>(targets.map((t) => [t.name, []]));
  for (let r = 0; r < o.rounds; r++) {
    const order = [...targets];
    for (let j = 0; j < order.length; j++) {
      const t = order[(r + j) % order.length]!;
      if (!targets.includes(t)) continue;
      const cpu0 = cpuTimeUs(t.pid);
      const main0 = mainThreadCpuUs(t.pid);
      const up0 = cpuTimeUs(o.fake.pid);
      const res = await load(t.url, {
        seconds: o.seconds,
        connections: o.connections,
        record: true,
        body: t.body,
        headers: t.headers,
      });
      const cpu1 = cpuTimeUs(t.pid);
      const main1 = mainThreadCpuUs(t.pid);
      const up1 = cpuTimeUs(o.fake.pid);
      // a process gone (its /proc entry too) or no answer at all: that target measured nothing
      const failed =
        (cpu0 !== null && cpu1 === null) || res.requests === 0
          ? 'its process exited or it answered nothing'
          : null;
      if (failed && t.name === 'portkey') {
        dropPeer(failed);
        continue;
      }
      if (failed || (up0 !== null && up1 === null))
        throw new Error(`race: ${t.name} failed in its load phase (${failed ?? 'the fake exited'})`);
      const per = (a: number | null, b: number | null) =>
        a === null || b === null || res.requests === 0 ? null : round((b - a) / res.requests, 1);
      const row: RaceRound = {
        ...res,
        cpuUsPerReq: per(cpu0, cpu1),
        mainCpuUsPerReq: per(main0, main1),
        upstreamCpuUsPerReq: per(up0, up1),
      };
      rounds.get(t.name)!.push(row);
      log(
        `  round ${r + 1} ${t.name.padEnd(11)} ${String(res.reqPerSec).padStart(6)} req/s, p50 ${res.latencyMs.p50} ms, p99 ${res.latencyMs.p99} ms, CPU ${row.cpuUsPerReq} µs/req${res.errors + res.non2xx ? `, ${res.errors} errors / ${res.non2xx} non-2xx` : ''}`,
      );
    }
  }

  // streaming: sequential streams in blocks, one target's block after another's (rotating start), so
  // each process is warm within its block, as in a back-to-back loop, and drift hits all targets alike
  const streamTargets = targets.filter((t) => t.streamBody);
  const streamSamples = new Map<SideName, StreamSample[]>(streamTargets.map((t) => [t.name, []]));
  const perBlock = Math.ceil(o.streams / STREAM_BLOCKS);
  log(
    `race: streaming TTFC, ${STREAM_BLOCKS} blocks of ${STREAM_WARM} + ${perBlock} sequential streams per target, alternating`,
  );
  for (let b = 0; b < STREAM_BLOCKS; b++) {
    const order = streamTargets.filter((t) => targets.includes(t));
    for (let j = 0; j < order.length; j++) {
      const t = order[(b + j) % order.length]!;
      try {
        for (let i = 0; i < STREAM_WARM + perBlock; i++) {
          const sample = await oneStream(t.url, t.streamBody!, t.headers);
          if (i >= STREAM_WARM) streamSamples.get(t.name)!.push(sample);
        }
      } catch (err) {
        if (t.name !== 'portkey') throw err;
        dropPeer(`a stream failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  const processOf: Record<SideName, string> = {
    direct: 'fake upstream',
    floor: `floor proxy (node:http + ${floorClient})`,
    quorum: 'Quorum',
    'quorum auto': 'Quorum',
    portkey: `${PORTKEY_PACKAGE}@${PORTKEY_VERSION}`,
  };
  const sides: Partial<Record<SideName, RaceSide>> = {};
  for (const t of targets) {
    const rs = rounds.get(t.name)!;
    const ss = streamSamples.get(t.name);
    sides[t.name] = {
      name: t.name,
      process: processOf[t.name],
      rounds: rs,
      median: {
        reqPerSec: round(median(rs.map((x) => x.reqPerSec)) ?? Number.NaN, 0),
        latencyMs: medianSummary(rs.map((x) => x.latencyMs)),
        cpuUsPerReq: median(rs.map((x) => x.cpuUsPerReq)),
        mainCpuUsPerReq: median(rs.map((x) => x.mainCpuUsPerReq)),
        upstreamCpuUsPerReq: median(rs.map((x) => x.upstreamCpuUsPerReq)),
      },
      errors: rs.reduce((a, x) => a + x.errors, 0),
      non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
      memory: { rssAtStartMb: rssAtStart.get(t.name) ?? null, peakRssMb: memOf(t.pid)?.hwmMb ?? null },
      streaming: ss?.length
        ? { ttfcMs: summarise(ss.map((x) => x.ttfc)), totalMs: summarise(ss.map((x) => x.total)) }
        : null,
    };
  }
  await stopChild(floor.child);

  const S = (n: SideName) => sides[n];
  const ttfc = (n: SideName) => S(n)?.streaming?.ttfcMs.p50 ?? null;
  const addedTtfc = (n: SideName) => {
    const a = ttfc(n);
    const d = ttfc('direct');
    return a === null || d === null ? null : round(a - d, 3);
  };
  const rps = (n: SideName) => S(n)?.median.reqPerSec ?? null;
  const cpu = (n: SideName) => S(n)?.median.cpuUsPerReq ?? null;
  return {
    settings: {
      connections: o.connections,
      durationS: o.seconds,
      warmupS: o.warmupS,
      rounds: o.rounds,
      streams: o.streams,
      order: `each round runs ${targets.map((t) => t.name).join(', ')} once, starting one later each round`,
    },
    peer: {
      name: PORTKEY_PACKAGE,
      version: PORTKEY_VERSION,
      nodeServer: NODE_SERVER_PIN,
      skipped: portkeySkipped,
      installedNow: o.portkey.ok ? o.portkey.installedNow : false,
      installS: o.portkey.ok ? o.portkey.installS : null,
    },
    floorClient,
    sides,
    startup: {
      quorumMs: o.startupMs,
      quorumMedianMs: round(median(o.startupMs) ?? Number.NaN, 1),
      buildMs: typeof o.startupBuild === 'string' ? null : o.startupBuild,
      buildMedianMs:
        typeof o.startupBuild === 'string' ? null : round(median(o.startupBuild) ?? Number.NaN, 1),
      buildNote: typeof o.startupBuild === 'string' ? o.startupBuild : null,
      portkeyMs,
    },
    ratios: {
      quorumVsPortkeyRps: ratio(rps('quorum'), rps('portkey')),
      quorumVsPortkeyP99: ratio(S('quorum')?.median.latencyMs.p99, S('portkey')?.median.latencyMs.p99),
      quorumVsDirectRps: ratio(rps('quorum'), rps('direct')),
      floorVsDirectRps: ratio(rps('floor'), rps('direct')),
      portkeyVsDirectRps: ratio(rps('portkey'), rps('direct')),
      quorumVsFloorCpu: ratio(cpu('quorum'), cpu('floor'), 2),
      quorumVsFloorCpuByRound: (S('quorum')?.rounds ?? []).map((q, i) =>
        ratio(q.cpuUsPerReq, S('floor')?.rounds[i]?.cpuUsPerReq, 2),
      ),
      quorumVsFloorMainCpu: ratio(S('quorum')?.median.mainCpuUsPerReq, S('floor')?.median.mainCpuUsPerReq, 2),
      portkeyVsFloorCpu: ratio(cpu('portkey'), cpu('floor'), 2),
      quorumVsPortkeyCpu: ratio(cpu('quorum'), cpu('portkey'), 2),
      addedTtfcP50Ms: {
        floor: addedTtfc('floor'),
        quorum: addedTtfc('quorum'),
        portkey: addedTtfc('portkey'),
      },
    },
    loadAverage: { start: loadStart, end: loadAverage() },
    elapsedS: round((performance.now() - started) / 1000, 1),
  };
}

// ---------------------------------------------------------------------------------------------- done when

export interface DoneWhenRow {
  target: string;
  measured: string;
  actual: number | null;
  /** Null: not measured in this run. */
  pass: boolean | null;
}

/**
 * The issue's "Done when" list, each measurable target against this run. `routingUs` / `budgetsUs`: the
 * gateway-reported overhead added by `model: "auto"` and by budgets + rate limits in memory (p50, µs);
 * null when those phases did not run (--race-only).
 */
export function doneWhen(
  r: RaceResult,
  extra: {
    routingUs: number | null;
    budgetsUs: number | null;
    /** Added TTFC p50 of the main streaming phase (all streams to one target, then the other), for context. */
    backToBackTtfcMs?: number | null;
  },
): DoneWhenRow[] {
  const q = r.sides.quorum;
  const p = r.sides.portkey;
  const d = r.sides.direct;
  const fl = r.sides.floor;
  const skipped = r.peer.skipped ? 'Portkey skipped (see above)' : 'n/a';
  const row = (
    target: string,
    actual: number | null,
    ok: (x: number) => boolean,
    measured: (x: number) => string,
    missing = 'n/a',
  ): DoneWhenRow =>
    actual === null || !Number.isFinite(actual)
      ? { target, measured: missing, actual: null, pass: null }
      : { target, measured: measured(actual), actual, pass: ok(actual) };
  const peakRss = q?.memory.peakRssMb ?? null;
  return [
    row(
      `non-stream, ${r.settings.connections} conn: Quorum ÷ Portkey req/s ≥ ${GOALS.rpsVsPortkey}`,
      r.ratios.quorumVsPortkeyRps,
      (x) => x >= GOALS.rpsVsPortkey,
      (x) => `${x.toFixed(2)}× (${q?.median.reqPerSec} vs ${p?.median.reqPerSec} req/s)`,
      skipped,
    ),
    row(
      `non-stream, ${r.settings.connections} conn: Quorum ÷ Portkey p99 ≤ ${GOALS.p99VsPortkey}`,
      r.ratios.quorumVsPortkeyP99,
      (x) => x <= GOALS.p99VsPortkey,
      (x) => `${x.toFixed(2)}× (${q?.median.latencyMs.p99} vs ${p?.median.latencyMs.p99} ms)`,
      skipped,
    ),
    row(
      `Quorum ÷ direct req/s ≥ ${GOALS.rpsVsDirect} (one worker)`,
      r.ratios.quorumVsDirectRps,
      (x) => x >= GOALS.rpsVsDirect,
      (x) => `${x.toFixed(3)} (${q?.median.reqPerSec} vs ${d?.median.reqPerSec} req/s)`,
    ),
    row(
      `streaming: added TTFC p50 over direct < ${GOALS.addedTtfcMs} ms`,
      r.ratios.addedTtfcP50Ms.quorum,
      (x) => x < GOALS.addedTtfcMs,
      (x) =>
        `${x.toFixed(3)} ms (floor ${r.ratios.addedTtfcP50Ms.floor?.toFixed(3) ?? 'n/a'}, Portkey ${r.ratios.addedTtfcP50Ms.portkey?.toFixed(3) ?? 'n/a'}${extra.backToBackTtfcMs == null ? '' : `; streaming phase ${extra.backToBackTtfcMs.toFixed(3)}`})`,
    ),
    row(
      `gateway CPU per proxied request ≤ ${GOALS.cpuUsPerRequest} µs`,
      q?.median.cpuUsPerReq ?? null,
      (x) => x <= GOALS.cpuUsPerRequest,
      (x) =>
        `${x.toFixed(0)} µs (floor ${fl?.median.cpuUsPerReq?.toFixed(0) ?? 'n/a'}, Portkey ${p?.median.cpuUsPerReq?.toFixed(0) ?? 'n/a'})`,
    ),
    row(
      `Quorum CPU ÷ floor CPU ≤ ${GOALS.cpuVsFloor}`,
      r.ratios.quorumVsFloorCpu,
      (x) => x <= GOALS.cpuVsFloor,
      (x) => `${x.toFixed(2)}×`,
    ),
    row(
      `peak RSS under the load ≤ ${GOALS.peakRssMb} MB`,
      peakRss,
      (x) => x <= GOALS.peakRssMb,
      (x) =>
        `${x.toFixed(1)} MB (floor ${fl?.memory.peakRssMb ?? 'n/a'}, Portkey ${p?.memory.peakRssMb ?? 'n/a'})`,
    ),
    row(
      `start-up to listening < ${GOALS.startupMs} ms (${r.startup.buildMedianMs !== null ? 'the build' : 'the sources'})`,
      r.startup.buildMedianMs ??
        (Number.isFinite(r.startup.quorumMedianMs) ? r.startup.quorumMedianMs : null),
      (x) => x < GOALS.startupMs,
      (x) =>
        `${x.toFixed(0)} ms median of ${r.startup.quorumMs.length} (${r.startup.buildMedianMs !== null ? `sources ${r.startup.quorumMedianMs.toFixed(0)} ms, ` : ''}Portkey ${r.startup.portkeyMs?.toFixed(0) ?? 'n/a'} ms)`,
    ),
    row(
      `routing (auto) adds ≤ ${GOALS.routingUs} µs p50 (overhead header)`,
      extra.routingUs,
      (x) => x <= GOALS.routingUs,
      (x) => `${x >= 0 ? '+' : ''}${x.toFixed(0)} µs`,
      'not run',
    ),
    row(
      `budgets (memory) add ≤ ${GOALS.budgetsUs} µs p50 (overhead header)`,
      extra.budgetsUs,
      (x) => x <= GOALS.budgetsUs,
      (x) => `${x >= 0 ? '+' : ''}${x.toFixed(0)} µs`,
      'not run',
    ),
  ];
}

// ---------------------------------------------------------------------------------------------- tables

const f = (x: number | null | undefined, d = 2) =>
  x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a';

export function raceTable(r: RaceResult, done: DoneWhenRow[]): string[] {
  const names: SideName[] = ['direct', 'floor', 'quorum', 'quorum auto', 'portkey'];
  const present = names.filter((n) => r.sides[n]);
  const col = (label: string, get: (s: RaceSide) => string) => [
    label,
    ...present.map((n) => get(r.sides[n]!)),
  ];
  const added = (s: RaceSide) =>
    s.name === 'direct' || !s.streaming
      ? ''
      : f((s.streaming.ttfcMs.p50 ?? 0) - (r.sides.direct?.streaming?.ttfcMs.p50 ?? Number.NaN), 3);
  const rows = [
    [
      `race, median of ${r.settings.rounds} rounds × ${r.settings.durationS} s, ${r.settings.connections} conn`,
      ...present.map((n) =>
        n === 'portkey'
          ? `Portkey ${r.peer.version}`
          : n === 'quorum'
            ? 'Quorum'
            : n === 'quorum auto'
              ? 'Quorum auto'
              : n,
      ),
    ],
    col('non-stream req/s', (s) => String(s.median.reqPerSec)),
    col('  ÷ direct', (s) => f(ratio(s.median.reqPerSec, r.sides.direct?.median.reqPerSec), 3)),
    col('  latency p50 / p99 (ms)', (s) => `${f(s.median.latencyMs.p50)} / ${f(s.median.latencyMs.p99)}`),
    col('  CPU per request (µs)', (s) => f(s.median.cpuUsPerReq, 0)),
    col('    of it the main thread (µs)', (s) => f(s.median.mainCpuUsPerReq, 0)),
    col('  fake upstream CPU per request (µs)', (s) => f(s.median.upstreamCpuUsPerReq, 0)),
    col('  errors / non-2xx', (s) => `${s.errors} / ${s.non2xx}`),
    col(`stream, ${r.settings.streams} sequential: TTFC p50 (ms)`, (s) => f(s.streaming?.ttfcMs.p50, 3)),
    col('  TTFC p99 (ms)', (s) => f(s.streaming?.ttfcMs.p99, 3)),
    col('  added TTFC p50 over direct (ms)', added),
    col('RSS at start / peak (MB)', (s) =>
      s.name === 'quorum auto' ? '(same)' : `${f(s.memory.rssAtStartMb, 1)} / ${f(s.memory.peakRssMb, 1)}`,
    ),
  ];
  const rt = r.ratios;
  const lines = [
    ...columns(rows),
    `  ratios: Quorum ÷ Portkey req/s ${f(rt.quorumVsPortkeyRps)}, p99 ${f(rt.quorumVsPortkeyP99)}, CPU ${f(rt.quorumVsPortkeyCpu)}; ` +
      `Quorum ÷ floor CPU ${f(rt.quorumVsFloorCpu)} (by round ${rt.quorumVsFloorCpuByRound.map((x) => f(x)).join(', ')}; main threads ${f(rt.quorumVsFloorMainCpu)}); ÷ direct req/s: floor ${f(rt.floorVsDirectRps, 3)}, Quorum ${f(rt.quorumVsDirectRps, 3)}, Portkey ${f(rt.portkeyVsDirectRps, 3)}`,
    `  start-up to listening: Quorum sources ${r.startup.quorumMs.map((x) => f(x, 0)).join(' / ')} ms, build ${r.startup.buildMs ? `${r.startup.buildMs.map((x) => f(x, 0)).join(' / ')} ms` : `not measured (${r.startup.buildNote})`}, Portkey ${f(r.startup.portkeyMs, 0)} ms`,
  ];
  if (r.peer.skipped) lines.push(`  Portkey skipped: ${r.peer.skipped}`);
  lines.push('', '  Done when (issue 11), this run:');
  lines.push(
    ...columns([
      ['target', 'measured', ''],
      ...done.map((d) => [d.target, d.measured, d.pass === null ? '—' : d.pass ? 'PASS' : 'FAIL']),
    ]),
  );
  return lines;
}
