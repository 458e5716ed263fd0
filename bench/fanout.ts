/**
 * Fan-out overhead: does a fan-out cost its slowest needed call and little more?
 *
 *   node bench/fanout.ts             # alone (~45 s): prints the table
 *   node bench/fanout.ts --quick     # smoke run (~12 s)
 *   node bench/fanout.ts --json      # also print the result object as JSON
 *   BENCH_FANOUT_N=100 node bench/fanout.ts   # requests per target (default 30; 8 with --quick)
 *
 * `npm run bench` calls runFanoutBench() after its other phases (their children stopped) and puts the
 * result in bench/results/latest.json under `fanout`.
 *
 * Two children of its own: a fake OpenAI upstream whose latency depends on the model
 * (bench/fanout-upstream.ts: candidates fo-a/b/c answer "The answer is 42." after 300 ms, fo-slow after
 * 2 s, the judge fo-judge a best-of-n verdict after 100 ms), and the gateway (`node src/cli/main.ts
 * serve`) with three presets used as model names:
 *
 *   bon   best_of_n over fo-a/b/c, judge fo-judge: candidates ‖, then the judge's two passes ‖ → 300 + 100 ms
 *   vote  consensus over fo-a/b/c (numeric answers agree, so no judge)               → 300 ms
 *   fast  consensus over fo-a, fo-b, fo-slow with quorum 2 (fo-slow is cancelled)    → 300 ms, not 2 s
 *
 * Requests run one at a time, interleaved (direct, single, bon, vote, fast, direct, …) so all see the
 * same machine conditions. "direct" is one 300 ms call straight at the fake: its excess over 300 ms is
 * the floor (one HTTP round trip plus the fake's timer lateness). "single" is the same call through the
 * gateway as a named model, no fan-out.
 *
 * Fan-out overhead = wall time − critical path (the slowest needed calls, nominal); the target is < 5 ms
 * at p50 for every preset. It includes everything an ordinary request also pays, so each preset also
 * shows "beyond 1 call": wall − the same round's `single` wall (− the judge's nominal 100 ms for
 * best-of-n), i.e. what fanning out adds to one ordinary gateway call. The fake reports its own
 * precision: time from reading a request to the end of its answer, minus the nominal latency. Response
 * caching is off in the gateway's config, so every request reaches the fake.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ChildGroup, isMain, runAlone, sleep, stopChild } from './children.ts';
import type { FakeEvent, FanoutModel } from './fanout-upstream.ts';
import { columns, loadAverage, round, type Summary, summarise } from './stats.ts';

export const CANDIDATE_MS = 300;
export const JUDGE_MS = 100;
export const SLOW_MS = 2000;
export const TARGET_MS = 5;

const MODELS: Record<string, FanoutModel> = {
  'fo-a': { latencyMs: CANDIDATE_MS, role: 'candidate' },
  'fo-b': { latencyMs: CANDIDATE_MS, role: 'candidate' },
  'fo-c': { latencyMs: CANDIDATE_MS, role: 'candidate' },
  'fo-slow': { latencyMs: SLOW_MS, role: 'candidate' },
  'fo-judge': { latencyMs: JUDGE_MS, role: 'judge' },
};

interface Preset {
  name: string;
  strategy: 'best_of_n' | 'consensus';
  models: string[];
  judge?: string;
  quorum?: number;
  /** The slowest needed calls, in series (nominal). */
  criticalPathMs: number;
  /** What the same calls would take one after another. */
  serialMs: number;
  /** Upstream calls per request (started, including cancelled ones). */
  upstreamCalls: number;
  path: string;
}

const PRESETS: Preset[] = [
  {
    name: 'bon',
    strategy: 'best_of_n',
    models: ['fo-a', 'fo-b', 'fo-c'],
    judge: 'fo-judge',
    criticalPathMs: CANDIDATE_MS + JUDGE_MS,
    serialMs: 3 * CANDIDATE_MS + 2 * JUDGE_MS,
    upstreamCalls: 5,
    path: `3 × ${CANDIDATE_MS} ms ‖ → 2 judge passes × ${JUDGE_MS} ms ‖`,
  },
  {
    name: 'vote',
    strategy: 'consensus',
    models: ['fo-a', 'fo-b', 'fo-c'],
    criticalPathMs: CANDIDATE_MS,
    serialMs: 3 * CANDIDATE_MS,
    upstreamCalls: 3,
    path: `3 × ${CANDIDATE_MS} ms ‖, agree → no judge`,
  },
  {
    name: 'fast',
    strategy: 'consensus',
    models: ['fo-a', 'fo-b', 'fo-slow'],
    quorum: 2,
    criticalPathMs: CANDIDATE_MS,
    serialMs: 2 * CANDIDATE_MS + SLOW_MS,
    upstreamCalls: 3,
    path: `2 × ${CANDIDATE_MS} ms ‖ + ${SLOW_MS} ms cancelled, quorum 2`,
  },
];

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer bench' };
const ask = (model: string) =>
  JSON.stringify({
    model,
    messages: [{ role: 'user', content: 'What is 6 × 7? Reply with the number.' }],
    max_tokens: 32,
  });

// ---------------------------------------------------------------------------------------------- result

/**
 * Where one request's time beyond its critical path goes (ms, from the fake's and this process's clocks;
 * per request the four parts sum to wall − critical path).
 */
export interface Phases {
  /** Sent by the client → the first upstream request read by the fake. */
  in: Summary;
  /**
   * Each upstream stage's length beyond its nominal latency: the spread of the stage's dispatches, the
   * fake's timer lateness, writing the answer; up to the last needed answer of the stage.
   */
  upstream: Summary;
  /** best-of-n: the last candidate answer → the first judge request read. */
  between: Summary | null;
  /** The last needed upstream answer written → the response received by the client. */
  out: Summary;
}

export interface FanoutTargetResult {
  /** Who answered: the fake itself, or the gateway (a named model or a preset). */
  via: 'fake' | 'gateway';
  model: string;
  path: string;
  strategy: string | null;
  models: string[];
  judge: string | null;
  quorum: number | null;
  criticalPathMs: number;
  /** What the same calls would take one after another. */
  serialMs: number;
  upstreamCallsPerRequest: number;
  wallMs: Summary;
  /** wall − criticalPathMs. */
  overheadMs: Summary;
  /**
   * wall − the same round's `single` wall (− the judge's nominal 100 ms for best-of-n): what fanning out
   * adds to one ordinary gateway call, paired per round. Null for direct / single.
   */
  beyondSingleCallMs: Summary | null;
  /** The gateway's `x-quorum-overhead-ms` (for a fan-out: its time before the fan-out began). */
  reportedOverheadMs: Summary | null;
  phasesMs: Phases;
}

export interface FanoutResult {
  settings: {
    requestsPerTarget: number;
    warmupRounds: number;
    order: string;
    candidateLatencyMs: number;
    judgeLatencyMs: number;
    slowLatencyMs: number;
    gatewayNodeFlags: string[];
  };
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  /** One call straight at the fake (model fo-a, 300 ms): the floor of one HTTP round trip. */
  direct: FanoutTargetResult;
  /** The same call through the gateway as an ordinary named request (no fan-out). */
  single: FanoutTargetResult;
  presets: Record<string, FanoutTargetResult>;
  /** The fake's own precision: end of answer − request read − nominal latency, ms. */
  upstreamTimer: {
    candidate: Summary;
    judge: Summary;
    /** fast: fo-slow requests cancelled by the gateway once the quorum was reached / answered anyway. */
    slowCancelled: number;
    slowAnswered: number;
  };
  target: {
    target: string;
    /** The worst preset's p50 overhead. */
    actual: number;
    worstPreset: string;
    worstP99: number;
    met: boolean;
  };
  elapsedS: number;
}

// ---------------------------------------------------------------------------------------------- config

function configYaml(upstream: string): string {
  const yamlList = (xs: string[]) => `[${xs.join(', ')}]`;
  return [
    'providers:',
    `  - { id: fo, type: openai, base_url: ${upstream}/v1, api_key: test-key, max_retries: 0 }`,
    'models:',
    ...Object.keys(MODELS).map(
      (id) =>
        `  - { id: ${id}, provider: fo, context_window: 128000, max_output_tokens: 4096, price: { input: 0.15, output: 0.6 }, capabilities: [json, streaming] }`,
    ),
    'cache: { enabled: false }',
    'ensembles:',
    ...PRESETS.flatMap((p) => [
      `  ${p.name}:`,
      `    strategy: ${p.strategy}`,
      `    models: ${yamlList(p.models)}`,
      ...(p.judge ? [`    judge: ${p.judge}`] : []),
      ...(p.quorum ? [`    quorum: ${p.quorum}`] : []),
    ]),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------- requests

/** Epoch ms with sub-ms precision: the clock the fake stamps its events with. */
const now = () => performance.timeOrigin + performance.now();

interface Timed {
  send: number;
  recv: number;
  reported: number | null;
}

async function post(url: string, model: string): Promise<Timed & { body: any }> {
  const send = now();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: HEADERS, body: ask(model) });
  const text = await r.text();
  const recv = now();
  if (!r.ok) throw new Error(`fan-out request (${model}) failed: HTTP ${r.status} ${text.slice(0, 300)}`);
  const o = r.headers.get('x-quorum-overhead-ms');
  return {
    send,
    recv,
    body: JSON.parse(text),
    reported: o !== null && Number.isFinite(Number(o)) ? Number(o) : null,
  };
}

interface Target {
  name: string;
  url: string;
  model: string;
  via: 'fake' | 'gateway';
  preset?: Preset;
}

/** Splits one request's overhead into its phases, from the upstream calls the fake saw during it. */
function phasesOf(t: Target, req: Timed, events: FakeEvent[]) {
  const mine = events.filter((e) => e.at >= req.send && e.at <= req.recv);
  const candidates = mine.filter((e) => MODELS[e.model]?.role === 'candidate').sort((a, b) => a.at - b.at);
  const judges = mine.filter((e) => MODELS[e.model]?.role === 'judge').sort((a, b) => a.at - b.at);
  const needed = t.preset?.quorum ?? t.preset?.models.length ?? 1;
  const answered = candidates.filter((e) => !e.aborted).sort((a, b) => a.end - b.end);
  const lastNeeded = answered[needed - 1];
  const expectJudge = t.preset?.strategy === 'best_of_n';
  if (!candidates.length || !lastNeeded || (expectJudge && !judges.length)) {
    throw new Error(
      `${t.name}: the fake saw ${candidates.length} candidate and ${judges.length} judge calls in the request`,
    );
  }
  const stage1 = lastNeeded.end - candidates[0]!.at - CANDIDATE_MS;
  if (!expectJudge)
    return {
      in: candidates[0]!.at - req.send,
      upstream: stage1,
      between: null,
      out: req.recv - lastNeeded.end,
    };
  const lastJudge = Math.max(...judges.map((e) => e.end));
  return {
    in: candidates[0]!.at - req.send,
    upstream: stage1 + (lastJudge - judges[0]!.at - JUDGE_MS),
    between: judges[0]!.at - lastNeeded.end,
    out: req.recv - lastJudge,
  };
}

/** The first answer of each preset must show the strategy the bench claims to measure. */
function checkRecord(p: Preset, body: any): void {
  const q = body?.quorum;
  const fail = (why: string) => {
    throw new Error(`preset ${p.name}: ${why}; quorum record: ${JSON.stringify(q).slice(0, 600)}`);
  };
  if (q?.strategy !== p.strategy) fail(`strategy is ${q?.strategy}, expected ${p.strategy}`);
  const answered = (q.candidates as any[]).filter((c) => c.content !== null && !c.error).length;
  const expected = p.quorum ?? p.models.length;
  if (answered !== expected) fail(`${answered} candidates answered, expected ${expected}`);
  if (p.strategy === 'best_of_n' && !(q.judge && q.candidates.some((c: any) => typeof c.score === 'number')))
    fail('no judge scores');
  if (p.strategy === 'consensus' && q.judge) fail('consensus called a judge');
  if (!/\b42\b/.test(body?.choices?.[0]?.message?.content ?? '')) fail('answer is not 42');
}

// ---------------------------------------------------------------------------------------------- run

export async function runFanoutBench(
  options: { quick?: boolean; n?: number; log?: (m: string) => void; nodeFlags?: string[] } = {},
): Promise<FanoutResult> {
  const started = Date.now();
  const log = options.log ?? ((m: string) => process.stderr.write(`[fanout] ${m}\n`));
  const envN = Math.round(Number(process.env.BENCH_FANOUT_N ?? ''));
  const n = options.n ?? (envN > 0 ? envN : options.quick ? 8 : 30);
  const warmupRounds = options.quick ? 2 : 5;
  const nodeFlags = options.nodeFlags ?? [];
  const loadAverageAtStart = loadAverage();
  const group = new ChildGroup('quorum-bench-fanout-', log);
  try {
    const fake = await group.upstream('fan-out fake upstream', 'bench/fanout-upstream.ts', {
      ...process.env,
      BENCH_FANOUT_MODELS: JSON.stringify(MODELS),
    });
    const { url: direct, nextLine } = fake;
    const fakeStdin = fake.child.stdin!;
    const fakeEvents = async (): Promise<FakeEvent[]> => {
      await sleep(50); // let the last answers' `close` events land
      fakeStdin.write('stats\n');
      return JSON.parse(await nextLine(5000)) as FakeEvent[];
    };

    const configPath = join(group.dir, 'quorum.yaml');
    writeFileSync(configPath, configYaml(direct));
    const gateway = await group.gateway({ name: 'fan-out gateway', configPath, nodeFlags });
    const viaGateway = gateway.url;
    await gateway.ready();

    // sanity: every preset does what it claims (also the first warm-up request)
    for (const p of PRESETS) checkRecord(p, (await post(viaGateway, p.name)).body);

    const targets: Target[] = [
      { name: 'direct', url: direct, model: 'fo-a', via: 'fake' },
      { name: 'single', url: viaGateway, model: 'fo-a', via: 'gateway' },
      ...PRESETS.map((p) => ({
        name: p.name,
        url: viaGateway,
        model: p.name,
        via: 'gateway' as const,
        preset: p,
      })),
    ];
    const timed = new Map<string, Timed[]>(targets.map((t) => [t.name, []]));
    const round1 = async (record: boolean) => {
      for (const t of targets) {
        const r = await post(t.url, t.model);
        if (record) timed.get(t.name)!.push(r);
      }
    };
    log(`fan-out: ${warmupRounds} warm-up rounds, then ${n} sequential requests per target, interleaved`);
    for (let i = 0; i < warmupRounds; i++) await round1(false);
    await fakeEvents();
    fakeStdin.write('reset\n');
    for (let i = 0; i < n; i++) await round1(true);
    const events = await fakeEvents();

    await stopChild(gateway.child);
    await stopChild(fake.child);

    const singleWall = timed.get('single')!.map((r) => r.recv - r.send);
    const resultOf = (t: Target): FanoutTargetResult => {
      const reqs = timed.get(t.name)!;
      const wall = reqs.map((r) => r.recv - r.send);
      const p = t.preset;
      const criticalPathMs = p?.criticalPathMs ?? CANDIDATE_MS;
      const phases = reqs.map((r) => phasesOf(t, r, events));
      const reported = reqs.flatMap((r) => (r.reported === null ? [] : [r.reported]));
      return {
        via: t.via,
        model: t.model,
        path: p?.path ?? `1 × ${CANDIDATE_MS} ms`,
        strategy: p?.strategy ?? null,
        models: p?.models ?? [t.model],
        judge: p?.judge ?? null,
        quorum: p?.quorum ?? null,
        criticalPathMs,
        serialMs: p?.serialMs ?? CANDIDATE_MS,
        upstreamCallsPerRequest: p?.upstreamCalls ?? 1,
        wallMs: summarise(wall),
        overheadMs: summarise(wall.map((x) => x - criticalPathMs)),
        beyondSingleCallMs: p
          ? summarise(wall.map((x, i) => x - singleWall[i]! - (criticalPathMs - CANDIDATE_MS)))
          : null,
        reportedOverheadMs: t.via === 'gateway' && reported.length ? summarise(reported) : null,
        phasesMs: {
          in: summarise(phases.map((x) => x.in)),
          upstream: summarise(phases.map((x) => x.upstream)),
          between: p?.judge ? summarise(phases.map((x) => x.between ?? NaN)) : null,
          out: summarise(phases.map((x) => x.out)),
        },
      };
    };
    const presets: Record<string, FanoutTargetResult> = {};
    for (const t of targets) if (t.preset) presets[t.name] = resultOf(t);
    const lateOf = (role: FanoutModel['role']) =>
      summarise(
        events
          .filter((e) => !e.aborted && MODELS[e.model]?.role === role)
          .map((e) => e.end - e.at - MODELS[e.model]!.latencyMs),
      );
    const worst = Object.entries(presets).sort((a, b) => b[1].overheadMs.p50 - a[1].overheadMs.p50)[0]!;
    const slow = events.filter((e) => e.model === 'fo-slow');
    return {
      settings: {
        requestsPerTarget: n,
        warmupRounds,
        order: `interleaved: ${targets.map((t) => t.name).join(', ')}, one request at a time`,
        candidateLatencyMs: CANDIDATE_MS,
        judgeLatencyMs: JUDGE_MS,
        slowLatencyMs: SLOW_MS,
        gatewayNodeFlags: nodeFlags,
      },
      loadAverageAtStart,
      loadAverageAtEnd: loadAverage(),
      direct: resultOf(targets[0]!),
      single: resultOf(targets[1]!),
      presets,
      upstreamTimer: {
        candidate: lateOf('candidate'),
        judge: lateOf('judge'),
        slowCancelled: slow.filter((e) => e.aborted).length,
        slowAnswered: slow.filter((e) => !e.aborted).length,
      },
      target: {
        target: `< ${TARGET_MS} ms (p50 wall − critical path, worst preset)`,
        actual: worst[1].overheadMs.p50,
        worstPreset: worst[0],
        worstP99: Math.max(...Object.values(presets).map((x) => x.overheadMs.p99)),
        met: worst[1].overheadMs.p50 < TARGET_MS,
      },
      elapsedS: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await group.close();
  }
}

// ---------------------------------------------------------------------------------------------- table

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

export function fanoutTable(r: FanoutResult): string[] {
  const all: [string, FanoutTargetResult][] = [
    ['direct: fo-a straight at the fake (floor)', r.direct],
    ['single: fo-a through the gateway, named', r.single],
    ...Object.entries(r.presets).map(([name, p]): [string, FanoutTargetResult] => [`${name}: ${p.path}`, p]),
  ];
  const pair = (x: Summary | null) => (x ? `${f(x.p50)} / ${f(x.p99)}` : '');
  const main = columns([
    [
      `fan-out (candidates ${r.settings.candidateLatencyMs} ms, judge ${r.settings.judgeLatencyMs} ms; ${r.settings.requestsPerTarget} sequential each)`,
      'critical path',
      'serial',
      'wall p50 / p99 (ms)',
      'overhead p50 / p99',
      'beyond 1 call p50 / p99',
    ],
    ...all.map(([label, t]) => [
      label,
      String(t.criticalPathMs),
      t.strategy ? String(t.serialMs) : '',
      pair(t.wallMs),
      pair(t.overheadMs),
      pair(t.beyondSingleCallMs),
    ]),
  ]);
  const phases = columns([
    ['  where the overhead goes, p50 (ms)', 'in', 'upstream', 'between', 'out'],
    ...all.map(([label, t]) => [
      `  ${label.split(':')[0]}`,
      f(t.phasesMs.in.p50),
      f(t.phasesMs.upstream.p50),
      t.phasesMs.between ? f(t.phasesMs.between.p50) : '',
      f(t.phasesMs.out.p50),
    ]),
  ]);
  const t = r.upstreamTimer;
  return [
    ...main,
    '',
    ...phases,
    '    in: client send → first upstream call read; upstream: stage lengths beyond nominal (dispatch spread,',
    '    timer lateness); between: candidates → judge; out: last needed answer → client has the response',
    `  fake upstream timer lateness p50 / p99 (ms): candidates ${pair(t.candidate)}, judge ${pair(t.judge)}`,
    `  fast: the ${r.settings.slowLatencyMs} ms candidate was cancelled in ${t.slowCancelled} of ${t.slowCancelled + t.slowAnswered} requests`,
    `  fan-out overhead ${r.target.target}: ${f(r.target.actual)} ms (${r.target.worstPreset}; worst p99 ${f(r.target.worstP99)} ms) → ${r.target.met ? 'MET' : 'MISSED'}`,
  ];
}

// ---------------------------------------------------------------------------------------------- alone

if (isMain(import.meta.url)) runAlone('fanout', runFanoutBench, fanoutTable);
