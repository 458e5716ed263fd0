/**
 * `npm run bench`: what the gateway adds on top of a 0 ms upstream.
 *
 * Three processes: this one (load generator: autocannon + fetch loops), the fake OpenAI upstream
 * (bench/fake-upstream.ts) and the gateway (`node src/cli/main.ts serve`, logging silenced). Every
 * figure is measured twice with the same request body: straight at the fake ("direct") and through
 * the gateway; the difference is the gateway's cost (its own work plus one extra local hop).
 *
 * The race (bench/race.ts) puts two more processes beside them for the load phase: the Portkey gateway
 * (installed on demand into bench/.peers/portkey/, bench/peers/portkey.ts) and the floor, a pass-through
 * proxy with no logic (bench/peers/floor.ts). Direct, floor, Quorum (named and `auto`) and Portkey run
 * in alternating rounds; the figures are medians and ratios, plus CPU per request, peak RSS and
 * Quorum's start-up to listening, and a "Done when" table of the hot-path issue's targets.
 *
 * Routing: before the children start, bench/routing.ts times analyzeTask + route over a 50-model
 * catalog in-process. The gateway's config has five models on the fake, and the same body is also sent
 * as `model: "auto"` (closed loop, and sequentially interleaved with named and direct requests), so the
 * cost of routing shows next to the named-model figures.
 *
 *   npm run bench                       # full run (3 rounds × 5 s per target, 32 connections)
 *   npm run bench -- --quick            # smoke run (2 rounds × 2 s, fewer streams)
 *   npm run bench -- --race-only        # only the race (start-up, load, streams): bench/results/race.json
 *   npm run bench -- --profile          # also write a V8 CPU profile of the gateway
 *   BENCH_DURATION=30 BENCH_CONNECTIONS=64 npm run bench
 *
 * Fan-out: last, bench/fanout.ts starts its own fake (latency by model: 300 ms candidates, a 100 ms judge)
 * and gateway (ensemble presets) and times best-of-n / consensus / quorum-2 requests against their
 * critical path (run on its own with `node bench/fanout.ts`).
 *
 * Budgets and rate limits: after that, bench/limits.ts times admit + settle in-process (memory and Redis
 * backends, Redis commands and round trips counted) and runs four gateways of its own (no limits / budget
 * + rpm/tpm, each in memory and with QUORUM_REDIS_URL) interleaved (alone: `node bench/limits.ts`).
 * Redis is skipped with a note when BENCH_REDIS_URL (default redis://127.0.0.1:6379) does not answer.
 *
 * Usage queries: last, bench/usage.ts seeds 1,000,000 ledger rows (SQLite; Postgres too with
 * BENCH_POSTGRES_URL) and times every GET /v1/usage shape of the dashboard against a gateway child of
 * its own, 3 rounds unless BENCH_USAGE_N says more (alone: `node bench/usage.ts`, 10 rounds).
 *
 * Results: printed as a table and written to bench/results/latest.json; `node bench/race-markdown.ts`
 * prints the race's tables as Markdown for docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ChildGroup,
  exitOnSignals,
  freshBuild,
  gatewayNodeFlagsFromEnv,
  ROOT,
  stopChild,
} from './children.ts';
import { type FanoutResult, fanoutTable, runFanoutBench } from './fanout.ts';
import { type LimitsBenchResult, limitsTable, runLimitsBench } from './limits.ts';
import { type LoadResult, memOf, type StreamSample, oneStream as streamOnce } from './load.ts';
import { ensurePortkey } from './peers/portkey.ts';
import { doneWhen, type RaceResult, type RaceSide, raceTable, runRace, runStartups } from './race.ts';
import { CHAT, fakeConfigYaml, MODEL } from './request.ts';
import { type RoutingBenchResult, routingTable, runRoutingBench } from './routing.ts';
import { loadAverage, round, type Summary, summarise } from './stats.ts';
import { runUsageBench, type UsageBenchResult, usageTable } from './usage.ts';

export { type Summary, summarise };

const RESULTS_DIR = join(ROOT, 'bench', 'results');
const PROFILE_DIR = join(RESULTS_DIR, 'profiles');

// ---------------------------------------------------------------------------------------------- options

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const PROFILE = argv.includes('--profile');
const RACE_ONLY = argv.includes('--race-only');
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(
    'usage: npm run bench [-- --quick] [-- --profile] [-- --race-only]\n' +
      '       (routing decision time alone: node bench/routing.ts; fan-out alone: node bench/fanout.ts;\n' +
      '        budgets and rate limits alone: node bench/limits.ts)\n' +
      'env: BENCH_DURATION (s per target per race round, default 5; 2 with --quick), BENCH_CONNECTIONS (default 32),\n' +
      '     BENCH_RACE_ROUNDS (default 3; 2 with --quick), BENCH_PORTKEY=0 (race without the Portkey peer),\n' +
      '     BENCH_STREAMS (sequential streams per side, default 300; 60 with --quick),\n' +
      '     BENCH_FANOUT_N (fan-out requests per target, default 30; 8 with --quick),\n' +
      '     BENCH_LIMITS_N (limits end-to-end rounds, default 1000; 150 with --quick),\n' +
      '     BENCH_LIMITS_ITERATIONS (in-process admit + settle, default 20000; 3000 with --quick),\n' +
      '     BENCH_REDIS_URL (default redis://127.0.0.1:6379; Redis figures skipped if it does not answer),\n' +
      '     BENCH_USAGE_N (usage rounds per query shape, default 3), BENCH_POSTGRES_URL (usage queries on Postgres too)\n',
  );
  process.exit(0);
}
function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`bench: ${name} must be a positive number, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}
const DURATION = envNumber('BENCH_DURATION', QUICK ? 2 : 5);
const RACE_ROUNDS = Math.round(envNumber('BENCH_RACE_ROUNDS', QUICK ? 2 : 3));
/** Quorum start-ups timed (spawn → listening), one after another. */
const STARTUPS = QUICK ? 2 : 3;
const CONNECTIONS = Math.round(envNumber('BENCH_CONNECTIONS', 32));
const WARMUP = QUICK ? 1 : 2;
const SEQ_REQUESTS = Math.round(envNumber('BENCH_STREAMS', QUICK ? 60 : 300));
const CONCURRENT_WORKERS = QUICK ? 8 : 16;
const CONCURRENT_PER_WORKER = QUICK ? 5 : 25;
/** Models the router chooses among for `model: "auto"` (besides MODEL), all on the fake upstream. */
const ROUTED_MODELS = [
  '{ id: bench-luna, provider: fake, context_window: 1050000, max_output_tokens: 128000, price: { input: 0.10, output: 0.50 }, capabilities: [tools, vision, json, streaming], quality: { general: 0.75, code: 0.75, math: 0.76, reasoning: 0.76, writing: 0.73 } }',
  '{ id: bench-terra, provider: fake, context_window: 1050000, max_output_tokens: 128000, price: { input: 1.00, output: 5.00 }, capabilities: [tools, vision, json, streaming], quality: { general: 0.82, code: 0.84, math: 0.84, reasoning: 0.84, writing: 0.82 } }',
  '{ id: bench-sol, provider: fake, context_window: 1000000, max_output_tokens: 128000, price: { input: 2.00, output: 10.00 }, capabilities: [tools, json, streaming], quality: { general: 0.83, code: 0.87, math: 0.85, reasoning: 0.85, writing: 0.83 } }',
  '{ id: bench-astra, provider: fake, context_window: 1050000, max_output_tokens: 128000, price: { input: 8.00, output: 40.00 }, capabilities: [tools, vision, json, streaming], quality: { general: 0.85, code: 0.88, math: 0.88, reasoning: 0.87, writing: 0.86 }, aliases: [bench-best] }',
];

const BODY = JSON.stringify(CHAT);
/** The same request with the choice left to the router. */
const AUTO_BODY = JSON.stringify({ ...CHAT, model: 'auto' });
const STREAM_BODY = JSON.stringify({ ...CHAT, stream: true, stream_options: { include_usage: true } });
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer bench' };

// ---------------------------------------------------------------------------------------------- helpers

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
exitOnSignals(log);

// ---------------------------------------------------------------------------------------------- phases

interface SequentialResult {
  latencyMs: Summary;
  /** The gateway's own `x-quorum-overhead-ms` header, when present. */
  reportedOverheadMs: Summary | null;
}

interface SequentialSamples {
  latency: number[];
  overhead: number[];
  /** `x-quorum-model` answers seen, with counts (which model the router chose). */
  models: Record<string, number>;
}

const newSamples = (): SequentialSamples => ({ latency: [], overhead: [], models: {} });

/** One non-stream request, timed from send to the end of the body. */
async function oneRequest(url: string, body: string, into: SequentialSamples): Promise<void> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: HEADERS, body });
  await r.arrayBuffer();
  const dt = performance.now() - t0;
  if (!r.ok) throw new Error(`non-stream request failed: HTTP ${r.status}`);
  into.latency.push(dt);
  const o = r.headers.get('x-quorum-overhead-ms');
  if (o !== null && Number.isFinite(Number(o))) into.overhead.push(Number(o));
  const model = r.headers.get('x-quorum-model');
  if (model !== null) into.models[model] = (into.models[model] ?? 0) + 1;
}

const toResult = (s: SequentialSamples): SequentialResult => ({
  latencyMs: summarise(s.latency),
  reportedOverheadMs: s.overhead.length ? summarise(s.overhead) : null,
});

/** Sequential non-stream requests with fetch: the per-request cost when nothing queues. */
async function sequential(url: string, n: number): Promise<SequentialResult> {
  const s = newSamples();
  for (let i = 0; i < n; i++) await oneRequest(url, BODY, s);
  return toResult(s);
}

/**
 * Sequential requests to several targets in turn (a, b, c, a, b, c, …): each sees the same machine
 * conditions, so small differences (routing's tens of µs) are not swamped by drift between phases.
 */
async function interleaved(
  targets: { url: string; body: string }[],
  n: number,
): Promise<SequentialSamples[]> {
  const out = targets.map(newSamples);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < targets.length; t++) await oneRequest(targets[t]!.url, targets[t]!.body, out[t]!);
  }
  return out;
}

/** One streaming request of the standard body: time to the first `data:` line, and to the end. */
const oneStream = (url: string): Promise<StreamSample> => streamOnce(url, STREAM_BODY, HEADERS);

interface StreamResult {
  ttfcMs: Summary;
  totalMs: Summary;
}

async function streams(url: string, sequentialN: number, workers: number, perWorker: number) {
  const seq: StreamSample[] = [];
  for (let i = 0; i < sequentialN; i++) seq.push(await oneStream(url));
  const conc: StreamSample[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < perWorker; i++) conc.push(await oneStream(url));
    }),
  );
  const pack = (s: StreamSample[]): StreamResult => ({
    ttfcMs: summarise(s.map((x) => x.ttfc)),
    totalMs: summarise(s.map((x) => x.total)),
  });
  return { sequential: pack(seq), concurrent: pack(conc) };
}

/** A race side's medians in the shape of one load phase (the figures the tables below compare). */
const sideLoad = (s: RaceSide): LoadResult => ({
  reqPerSec: s.median.reqPerSec,
  requests: s.rounds.reduce((a, x) => a + x.requests, 0),
  errors: s.errors,
  non2xx: s.non2xx,
  latencyMs: s.median.latencyMs,
});

/** The commit measured, and whether the sources differed from it (others' work in progress). */
function code(): { commit: string | null; sourcesChanged: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    const changed = git(
      'status',
      '--porcelain',
      '--',
      'src',
      'routing',
      'consensus',
      'config',
      'package.json',
    );
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      sourcesChanged: changed ? changed.split('\n').map((l) => l.slice(3)) : [],
    };
  } catch {
    return { commit: null, sourcesChanged: [] };
  }
}

const machine = (loadAtStart: number[]) => ({
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memGb: round(totalmem() / 1024 ** 3, 1),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  // Other work on the machine skews every figure; a load average near or above the CPU count means noise.
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadAverage(),
});

// ---------------------------------------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const loadAtStart = loadAverage();
  const codeAtStart = code();
  if ((loadAtStart[0] ?? 0) > availableParallelism() * 0.5) {
    log(
      `note: 1-min load average is ${loadAtStart[0]} on ${availableParallelism()} CPUs; figures will be noisy`,
    );
  }
  // 0. the peer for the race: installed into bench/.peers/portkey/ on the first run (npm, network)
  const portkey = await ensurePortkey(log);
  if (!portkey.ok) log(`peer: ${portkey.note}; the race runs without Portkey`);

  // 1. routing decision time, in-process, before the children exist (nothing else of ours is running)
  let routingDecision: RoutingBenchResult | null = null;
  if (!RACE_ONLY) {
    log(`routing decision: analyzeTask + route over a 50-model catalog${QUICK ? ' (quick)' : ''}`);
    routingDecision = runRoutingBench({ quick: QUICK });
    log(
      `  slowest typical request p50 ${routingDecision.typical.p50} µs (mean ${routingDecision.typical.mean}); long prompt p50 ${routingDecision.long?.p50} µs (seen before ${routingDecision.long?.seenBeforeP50} µs)`,
    );
  }

  const group = new ChildGroup('quorum-bench-', log);
  try {
    // 2. the upstream
    const fake = await group.upstream('fake upstream', 'bench/fake-upstream.ts');
    const direct = fake.url;

    // 3. the gateway, in its own process, configured at the fake; first its start-up, timed alone
    const configPath = join(group.dir, 'quorum.yaml');
    writeFileSync(configPath, fakeConfigYaml(direct, { models: ROUTED_MODELS }));
    // e.g. BENCH_GATEWAY_NODE_OPTIONS="--max-old-space-size=96" to see a capped heap's effect on RSS
    const nodeFlags = gatewayNodeFlagsFromEnv();
    if (PROFILE) {
      mkdirSync(PROFILE_DIR, { recursive: true });
      nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`);
    }
    log(`start-up: ${STARTUPS} gateways started one after another, spawn → first /healthz answer`);
    const startupMs = await runStartups(
      group,
      { configPath, nodeFlags: nodeFlags.filter((flag) => !flag.startsWith('--cpu-prof')) },
      STARTUPS,
      log,
    );
    // the compiled build too: what `npm start` and the Docker image run, built first when stale (~1 s)
    let build = freshBuild();
    if ('note' in build) {
      log(`build: ${build.note}; running npm run build`);
      try {
        execFileSync(process.execPath, ['scripts/build.ts'], { cwd: ROOT, stdio: 'ignore' });
      } catch (err) {
        log(`build failed (${err instanceof Error ? err.message : String(err)}); racing the sources`);
      }
      build = freshBuild();
    }
    const startupBuild =
      'entry' in build
        ? await runStartups(
            group,
            {
              configPath,
              entry: build.entry,
              nodeFlags: nodeFlags.filter((flag) => !flag.startsWith('--cpu-prof')),
            },
            STARTUPS,
            log,
            'build',
          )
        : build.note;
    if (typeof startupBuild === 'string') log(`  start-up of the build not measured: ${startupBuild}`);
    // the gateway under load is the build when there is one, as users run it (start-up RSS ~40 MB lower
    // than type-stripped sources); the results say which ran
    const gatewayEntry = 'entry' in build ? build.entry : undefined;
    log(`gateway under load: ${gatewayEntry ? 'the compiled build (dist/)' : 'the TypeScript sources'}`);
    const gateway = await group.gateway({ name: 'gateway', configPath, nodeFlags, entry: gatewayEntry });
    const viaGateway = gateway.url;
    await gateway.ready();
    const gwPid = gateway.child.pid as number;
    const memAtStart = memOf(gwPid);

    // peak-RSS sampler (VmHWM is the kernel's own high-water mark; the samples are a cross-check)
    let sampledPeakMb = memAtStart?.rssMb ?? 0;
    const sampler = setInterval(() => {
      const m = memOf(gwPid);
      if (m && m.rssMb > sampledPeakMb) sampledPeakMb = m.rssMb;
    }, 200);
    sampler.unref();

    // 4. sanity: both paths answer the same request
    for (const url of [direct, viaGateway]) {
      const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: HEADERS, body: BODY });
      const j = (await r.json()) as any;
      if (!r.ok || typeof j?.choices?.[0]?.message?.content !== 'string') {
        throw new Error(
          `sanity request to ${url} failed: HTTP ${r.status} ${JSON.stringify(j).slice(0, 300)}`,
        );
      }
    }
    await oneStream(viaGateway);
    const autoProbe = await fetch(`${viaGateway}/v1/chat/completions`, {
      method: 'POST',
      headers: HEADERS,
      body: AUTO_BODY,
    });
    const autoJson = (await autoProbe.json()) as any;
    if (!autoProbe.ok || !autoJson?.quorum?.route?.chosen) {
      throw new Error(
        `sanity auto request failed: HTTP ${autoProbe.status} ${JSON.stringify(autoJson).slice(0, 300)}`,
      );
    }
    const autoChosen = String(autoJson.quorum.route.chosen);
    const autoCandidates = (autoJson.quorum.route.candidates as unknown[]).length;
    log(`model "auto" routes this body to ${autoChosen} (${autoCandidates} candidates)`);

    // 5. the race: direct, floor, Quorum (named, auto) and Portkey under the same closed-loop load in
    //    alternating rounds, then sequential streams interleaved (bench/race.ts)
    const race = await runRace({
      group,
      log,
      fake: { url: direct, pid: fake.child.pid as number },
      quorum: { url: viaGateway, pid: gwPid },
      portkey,
      startupMs,
      startupBuild,
      connections: CONNECTIONS,
      seconds: DURATION,
      warmupS: WARMUP,
      rounds: RACE_ROUNDS,
      streams: SEQ_REQUESTS,
      body: BODY,
      autoBody: AUTO_BODY,
      streamBody: STREAM_BODY,
    });
    if (RACE_ONLY || !routingDecision) {
      clearInterval(sampler);
      const done = doneWhen(race, { routingUs: null, budgetsUs: null });
      const out = {
        date: new Date().toISOString(),
        mode: `race-only${QUICK ? ', quick' : ''}`,
        code: codeAtStart,
        machine: machine(loadAtStart),
        race,
        doneWhen: done,
        elapsedS: round((Date.now() - started) / 1000, 1),
      };
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(join(RESULTS_DIR, 'race.json'), `${JSON.stringify(out, null, 2)}\n`);
      process.stdout.write(
        [
          '',
          `Quorum race (${out.mode}): ${out.machine.cpus} CPU ${out.machine.cpuModel}, Node ${out.machine.node}, load ${loadAtStart.join(' ')} → ${out.machine.loadAverageAtEnd.join(' ')}`,
          '',
          ...raceTable(race, done),
          '',
          `results written to ${join('bench', 'results', 'race.json')} (${out.elapsedS} s)`,
          '',
        ].join('\n'),
      );
      warnOnErrors(race);
      return 0;
    }
    const loadDirect = sideLoad(race.sides.direct!);
    const loadGateway = sideLoad(race.sides.quorum!);
    const loadAuto = sideLoad(race.sides['quorum auto']!);

    // 6. unloaded per-request cost (sequential, one at a time)
    log(`sequential non-stream: ${SEQ_REQUESTS} per side`);
    const seqDirect = await sequential(direct, SEQ_REQUESTS);
    const seqGateway = await sequential(viaGateway, SEQ_REQUESTS);
    log(`sequential, routing: direct / named / auto interleaved, ${SEQ_REQUESTS} each`);
    const abc = [
      { url: direct, body: BODY },
      { url: viaGateway, body: BODY },
      { url: viaGateway, body: AUTO_BODY },
    ];
    await interleaved(abc, QUICK ? 10 : 30);
    const [ilDirect, ilNamed, ilAuto] = (await interleaved(abc, SEQ_REQUESTS)) as [
      SequentialSamples,
      SequentialSamples,
      SequentialSamples,
    ];

    // 7. streaming: time to first chunk and full duration
    log(
      `streaming: ${SEQ_REQUESTS} sequential + ${CONCURRENT_WORKERS}x${CONCURRENT_PER_WORKER} concurrent per side`,
    );
    // warm the fetch pool and the JIT on both paths
    const warm = QUICK ? 20 : 100;
    await streams(direct, warm, 4, 5);
    await streams(viaGateway, warm, 4, 5);
    const streamDirect = await streams(direct, SEQ_REQUESTS, CONCURRENT_WORKERS, CONCURRENT_PER_WORKER);
    const streamGateway = await streams(viaGateway, SEQ_REQUESTS, CONCURRENT_WORKERS, CONCURRENT_PER_WORKER);

    // 8. memory, then shut the gateway down
    clearInterval(sampler);
    const memAtEnd = memOf(gwPid);
    await stopChild(gateway.child, PROFILE ? 15_000 : 5000);
    await stopChild(fake.child);

    // 9. fan-out overhead: its own fake (latency by model) and gateway (presets), started now that the
    //    others are gone
    log('fan-out: presets bon / vote / fast against 300 ms candidates and a 100 ms judge');
    const fanout: FanoutResult = await runFanoutBench({
      quick: QUICK,
      log,
      nodeFlags: nodeFlags.filter((flag) => !flag.startsWith('--cpu-prof')),
    });
    log(
      `  overhead p50: ${Object.entries(fanout.presets)
        .map(([name, p]) => `${name} ${p.overheadMs.p50} ms`)
        .join(', ')} (direct floor ${fanout.direct.overheadMs.p50} ms)`,
    );

    // 10. budgets and rate limits: in-process admit + settle, then its own fake and four gateways
    log('budgets and rate limits: admit + settle in-process, then gateways without / with limits');
    const limits: LimitsBenchResult = await runLimitsBench({
      quick: QUICK,
      log,
      nodeFlags: nodeFlags.filter((flag) => !flag.startsWith('--cpu-prof')),
    });

    // 11. usage queries: 1,000,000 ledger rows and a gateway of its own
    log('usage queries: 1,000,000 ledger rows, every dashboard shape of GET /v1/usage, and GET /admin/spend');
    const usage: UsageBenchResult = await runUsageBench({
      quick: true,
      log,
      nodeFlags: nodeFlags.filter((flag) => !flag.startsWith('--cpu-prof')),
    });

    const peakRssMb = Math.max(memAtEnd?.hwmMb ?? 0, sampledPeakMb);
    const added = (g: number, d: number) => round(g - d, 3);
    const seqIlDirect = toResult(ilDirect);
    const seqIlNamed = toResult(ilNamed);
    const seqIlAuto = toResult(ilAuto);
    const overheadDiff = (p: 'p50' | 'p99') =>
      seqIlAuto.reportedOverheadMs && seqIlNamed.reportedOverheadMs
        ? added(seqIlAuto.reportedOverheadMs[p], seqIlNamed.reportedOverheadMs[p])
        : null;
    const results = {
      date: new Date().toISOString(),
      mode: QUICK ? 'quick' : 'full',
      code: codeAtStart,
      machine: machine(loadAtStart),
      settings: {
        durationS: DURATION,
        warmupS: WARMUP,
        raceRounds: RACE_ROUNDS,
        connections: CONNECTIONS,
        sequentialRequests: SEQ_REQUESTS,
        concurrentStreams: `${CONCURRENT_WORKERS}x${CONCURRENT_PER_WORKER}`,
        upstreamLatencyMs: 0,
        processes:
          'load generator (this process), fake upstream (child), gateway (child); in the race also the floor proxy and Portkey (children)',
        nonStream: 'the race medians (direct, quorum, quorum auto); see race',
        gatewayNodeFlags: nodeFlags,
      },
      nonStream: {
        direct: loadDirect,
        gateway: loadGateway,
        throughputRatio: round(loadGateway.reqPerSec / loadDirect.reqPerSec, 3),
        addedP50Ms: added(loadGateway.latencyMs.p50, loadDirect.latencyMs.p50),
        addedP99Ms: added(loadGateway.latencyMs.p99, loadDirect.latencyMs.p99),
      },
      sequential: {
        direct: seqDirect,
        gateway: seqGateway,
        addedP50Ms: added(seqGateway.latencyMs.p50, seqDirect.latencyMs.p50),
        addedP99Ms: added(seqGateway.latencyMs.p99, seqDirect.latencyMs.p99),
      },
      streaming: {
        direct: streamDirect,
        gateway: streamGateway,
        sequential: {
          addedTtfcP50Ms: added(streamGateway.sequential.ttfcMs.p50, streamDirect.sequential.ttfcMs.p50),
          addedTtfcP99Ms: added(streamGateway.sequential.ttfcMs.p99, streamDirect.sequential.ttfcMs.p99),
          addedTotalP50Ms: added(streamGateway.sequential.totalMs.p50, streamDirect.sequential.totalMs.p50),
          addedTotalP99Ms: added(streamGateway.sequential.totalMs.p99, streamDirect.sequential.totalMs.p99),
        },
        concurrent: {
          addedTtfcP50Ms: added(streamGateway.concurrent.ttfcMs.p50, streamDirect.concurrent.ttfcMs.p50),
          addedTtfcP99Ms: added(streamGateway.concurrent.ttfcMs.p99, streamDirect.concurrent.ttfcMs.p99),
          addedTotalP50Ms: added(streamGateway.concurrent.totalMs.p50, streamDirect.concurrent.totalMs.p50),
          addedTotalP99Ms: added(streamGateway.concurrent.totalMs.p99, streamDirect.concurrent.totalMs.p99),
        },
      },
      routing: {
        decision: routingDecision,
        endToEnd: {
          models: [MODEL, ...ROUTED_MODELS.map((m) => /id: ([\w.-]+)/.exec(m)?.[1] ?? '?')],
          policy: 'balanced',
          chosen: autoChosen,
          nonStream: {
            named: loadGateway,
            auto: loadAuto,
            throughputRatioAutoVsNamed: round(loadAuto.reqPerSec / loadGateway.reqPerSec, 3),
            autoMinusNamedP50Ms: added(loadAuto.latencyMs.p50, loadGateway.latencyMs.p50),
            autoMinusNamedP99Ms: added(loadAuto.latencyMs.p99, loadGateway.latencyMs.p99),
            addedP50Ms: added(loadAuto.latencyMs.p50, loadDirect.latencyMs.p50),
            addedP99Ms: added(loadAuto.latencyMs.p99, loadDirect.latencyMs.p99),
          },
          /** direct, named and auto requests interleaved one by one. */
          sequential: {
            direct: seqIlDirect,
            named: seqIlNamed,
            auto: seqIlAuto,
            autoModels: ilAuto.models,
            namedAddedP50Ms: added(seqIlNamed.latencyMs.p50, seqIlDirect.latencyMs.p50),
            namedAddedP99Ms: added(seqIlNamed.latencyMs.p99, seqIlDirect.latencyMs.p99),
            autoAddedP50Ms: added(seqIlAuto.latencyMs.p50, seqIlDirect.latencyMs.p50),
            autoAddedP99Ms: added(seqIlAuto.latencyMs.p99, seqIlDirect.latencyMs.p99),
            autoMinusNamedP50Ms: added(seqIlAuto.latencyMs.p50, seqIlNamed.latencyMs.p50),
            overheadAutoMinusNamedP50Ms: overheadDiff('p50'),
            overheadAutoMinusNamedP99Ms: overheadDiff('p99'),
          },
        },
      },
      fanout,
      limits,
      usage,
      race,
      doneWhen: doneWhen(race, {
        routingUs: overheadDiff('p50') === null ? null : round((overheadDiff('p50') as number) * 1000, 0),
        budgetsUs: Number.isFinite(limits.targets.memory.actual)
          ? round(limits.targets.memory.actual * 1000, 0)
          : null,
        backToBackTtfcMs: added(streamGateway.sequential.ttfcMs.p50, streamDirect.sequential.ttfcMs.p50),
      }),
      memory: {
        gatewayRssAtStartMb: memAtStart?.rssMb ?? null,
        gatewayRssAtEndMb: memAtEnd?.rssMb ?? null,
        gatewayPeakRssMb: peakRssMb,
      },
      targets: {} as Record<string, { target: string; actual: number; met: boolean }>,
      profile: PROFILE ? PROFILE_DIR : null,
      elapsedS: 0,
    };
    results.targets = {
      addedP99NonStream: {
        target: '< 1 ms',
        actual: results.nonStream.addedP99Ms,
        met: results.nonStream.addedP99Ms < 1,
      },
      addedTtfc: {
        target: '< 1 ms (p50, sequential)',
        actual: results.streaming.sequential.addedTtfcP50Ms,
        met: results.streaming.sequential.addedTtfcP50Ms < 1,
      },
      peakRss: { target: '< 150 MB', actual: peakRssMb, met: peakRssMb > 0 && peakRssMb < 150 },
      routingDecision: {
        target: routingDecision.target.target,
        actual: routingDecision.target.actual,
        met: routingDecision.target.met,
      },
      fanOutOverhead: {
        target: fanout.target.target,
        actual: fanout.target.actual,
        met: fanout.target.met,
      },
      limitsMemory: {
        target: limits.targets.memory.target,
        actual: limits.targets.memory.actual,
        met: limits.targets.memory.met,
      },
      usageQueries: {
        target: 'every GET /v1/usage shape under its p99 bound, SQLite, 1M ledger rows (shapes missed)',
        actual: usage.engines[0]!.shapes.filter((s) => !s.met).length,
        met: usage.engines[0]!.shapes.every((s) => s.met === true),
      },
    };
    if (limits.targets.redis) {
      results.targets.limitsRedis = {
        target: limits.targets.redis.target,
        actual: limits.targets.redis.actual,
        met: limits.targets.redis.met,
      };
    }
    results.elapsedS = round((Date.now() - started) / 1000, 1);

    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    printTable(results);
    warnOnErrors(race);
    return 0;
  } finally {
    await group.close();
  }
}

/** A load phase with errors or non-2xx answers measured something else than proxying: say so. */
function warnOnErrors(race: RaceResult): void {
  const bad = Object.values(race.sides).filter((s) => s.errors + s.non2xx > 0);
  if (bad.length) {
    log(
      `WARNING: errors during load (${bad.map((s) => `${s.name} ${s.errors} errors / ${s.non2xx} non-2xx`).join(', ')})`,
    );
  }
}

function printTable(r: any) {
  const ns = r.nonStream;
  const sq = r.sequential;
  const st = r.streaming;
  const rows: [string, string, string, string][] = [
    ['', 'direct', 'gateway', 'added'],
    [
      `non-stream, ${r.settings.connections} conn: req/s`,
      String(ns.direct.reqPerSec),
      String(ns.gateway.reqPerSec),
      `ratio ${ns.throughputRatio}`,
    ],
    ['  latency p50 (ms)', f(ns.direct.latencyMs.p50), f(ns.gateway.latencyMs.p50), f(ns.addedP50Ms)],
    ['  latency p99 (ms)', f(ns.direct.latencyMs.p99), f(ns.gateway.latencyMs.p99), f(ns.addedP99Ms)],
    [
      'non-stream, sequential: p50 (ms)',
      f(sq.direct.latencyMs.p50),
      f(sq.gateway.latencyMs.p50),
      f(sq.addedP50Ms),
    ],
    ['  p99 (ms)', f(sq.direct.latencyMs.p99), f(sq.gateway.latencyMs.p99), f(sq.addedP99Ms)],
    [
      '  gateway-reported overhead p50/p99',
      '',
      sq.gateway.reportedOverheadMs
        ? `${f(sq.gateway.reportedOverheadMs.p50)} / ${f(sq.gateway.reportedOverheadMs.p99)}`
        : 'n/a',
      '',
    ],
    [
      'stream, sequential: TTFC p50 (ms)',
      f(st.direct.sequential.ttfcMs.p50),
      f(st.gateway.sequential.ttfcMs.p50),
      f(st.sequential.addedTtfcP50Ms),
    ],
    [
      '  TTFC p99 (ms)',
      f(st.direct.sequential.ttfcMs.p99),
      f(st.gateway.sequential.ttfcMs.p99),
      f(st.sequential.addedTtfcP99Ms),
    ],
    [
      '  full stream p50 (ms)',
      f(st.direct.sequential.totalMs.p50),
      f(st.gateway.sequential.totalMs.p50),
      f(st.sequential.addedTotalP50Ms),
    ],
    [
      '  full stream p99 (ms)',
      f(st.direct.sequential.totalMs.p99),
      f(st.gateway.sequential.totalMs.p99),
      f(st.sequential.addedTotalP99Ms),
    ],
    [
      `stream, ${r.settings.concurrentStreams} concurrent: TTFC p50`,
      f(st.direct.concurrent.ttfcMs.p50),
      f(st.gateway.concurrent.ttfcMs.p50),
      f(st.concurrent.addedTtfcP50Ms),
    ],
    [
      '  TTFC p99 (ms)',
      f(st.direct.concurrent.ttfcMs.p99),
      f(st.gateway.concurrent.ttfcMs.p99),
      f(st.concurrent.addedTtfcP99Ms),
    ],
    [
      '  full stream p50 (ms)',
      f(st.direct.concurrent.totalMs.p50),
      f(st.gateway.concurrent.totalMs.p50),
      f(st.concurrent.addedTotalP50Ms),
    ],
    [
      '  full stream p99 (ms)',
      f(st.direct.concurrent.totalMs.p99),
      f(st.gateway.concurrent.totalMs.p99),
      f(st.concurrent.addedTotalP99Ms),
    ],
    [
      'gateway RSS start / end / peak (MB)',
      '',
      `${r.memory.gatewayRssAtStartMb} / ${r.memory.gatewayRssAtEndMb} / ${r.memory.gatewayPeakRssMb}`,
      '',
    ],
  ];
  const e2e = r.routing.endToEnd;
  const rn = e2e.nonStream;
  const rs = e2e.sequential;
  const ov = (x: SequentialResult, p: 'p50' | 'p99') =>
    x.reportedOverheadMs ? f(x.reportedOverheadMs[p]) : 'n/a';
  const diff = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);
  const routingRows: [string, string, string, string][] = [
    [
      `routing on (model "auto", ${e2e.models.length} models → ${e2e.chosen})`,
      'named',
      'auto',
      'auto − named',
    ],
    [
      `non-stream, ${r.settings.connections} conn: req/s`,
      String(rn.named.reqPerSec),
      String(rn.auto.reqPerSec),
      `ratio ${rn.throughputRatioAutoVsNamed}`,
    ],
    ['  latency p50 (ms)', f(rn.named.latencyMs.p50), f(rn.auto.latencyMs.p50), diff(rn.autoMinusNamedP50Ms)],
    ['  latency p99 (ms)', f(rn.named.latencyMs.p99), f(rn.auto.latencyMs.p99), diff(rn.autoMinusNamedP99Ms)],
    [
      'sequential, interleaved: added p50 vs direct (ms)',
      f(rs.namedAddedP50Ms),
      f(rs.autoAddedP50Ms),
      diff(rs.autoMinusNamedP50Ms),
    ],
    [
      '  added p99 vs direct (ms)',
      f(rs.namedAddedP99Ms),
      f(rs.autoAddedP99Ms),
      diff(round(rs.autoAddedP99Ms - rs.namedAddedP99Ms, 3)),
    ],
    [
      '  gateway-reported overhead p50 (ms)',
      ov(rs.named, 'p50'),
      ov(rs.auto, 'p50'),
      diff(rs.overheadAutoMinusNamedP50Ms),
    ],
    [
      '  gateway-reported overhead p99 (ms)',
      ov(rs.named, 'p99'),
      ov(rs.auto, 'p99'),
      diff(rs.overheadAutoMinusNamedP99Ms),
    ],
  ];
  const all = [...rows, ...routingRows];
  const w = [0, 1, 2, 3].map((i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `  ${row[0]!.padEnd(w[0]!)}  ${row[1]!.padStart(w[1]!)}  ${row[2]!.padStart(w[2]!)}  ${row[3]!.padStart(w[3]!)}`;
  const out = [
    '',
    `Quorum benchmark (${r.mode}): ${r.machine.cpus} CPU ${r.machine.cpuModel}, Node ${r.machine.node}, upstream latency 0 ms`,
    '',
    line(rows[0]!),
    ...rows.slice(1).map(line),
    '',
    line(routingRows[0]!),
    ...routingRows.slice(1).map(line),
    '',
    ...routingTable(r.routing.decision),
    '',
    ...fanoutTable(r.fanout),
    '',
    ...limitsTable(r.limits),
    '',
    ...usageTable(r.usage),
    '',
    ...raceTable(r.race, r.doneWhen),
    '',
    'earlier targets:',
    ...Object.entries(r.targets as Record<string, { target: string; actual: number; met: boolean }>).map(
      ([k, t]) => `  ${t.met ? 'MET   ' : 'MISSED'}  ${k} ${t.target}: ${t.actual}`,
    ),
    '',
    `results written to ${join('bench', 'results', 'latest.json')}${r.profile ? `; CPU profile in ${r.profile} (node bench/profile-summary.ts)` : ''}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
}

function f(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : 'n/a';
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1); // the exit handler of children.ts kills the children and removes the temp dir
  },
);
