/**
 * Routing decision time: `analyzeTask` + `route` over a 50-model catalog, in-process (no HTTP).
 *
 *   node bench/routing.ts            # full run (~10 s), prints the table
 *   node bench/routing.ts --quick    # smoke run
 *   node bench/routing.ts --json     # also print the result object as JSON
 *
 * `npm run bench` calls runRoutingBench() before it starts its child processes and puts the result in
 * bench/results/latest.json under `routing.decision`.
 *
 * Method: every request and function is warmed up first, interleaved, so the JIT has seen all the
 * shapes. Each function is then called in batches sized to take ~100 µs (so the hrtime.bigint() reads
 * cost < 0.1 %); a batch's time / its size is one sample. All measurements run interleaved in 20
 * rounds, so bursts of other work on a shared machine hit them alike. Mean = total time / total calls;
 * p50/p99 are over the batch samples, so a rare slow call (a GC pause) is averaged over its batch. The
 * < 50 µs verdict uses the p50 of the slowest typical request (the 20k-token one is reported apart).
 *
 * Calibration: the same run reports what the router decides on the calibration set (bench/calibration/,
 * docs/routing.md §5): quality kept and cost per policy on its held-out part, and the decision time over
 * all its prompts on the 50-model catalog (one job that cycles through them).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topCategory } from '../routing/categorize.ts';
import {
  analyzeTask,
  CATEGORIES,
  type Capability,
  type Category,
  type HealthView,
  type ModelSpec,
  type RouteOptions,
  type RouteRequest,
  route,
  type TaskProfile,
} from '../routing/index.ts';
import { forgetTexts } from '../routing/text-memo.ts';
import { HealthTracker } from '../src/gateway/index.ts';
import { realCatalog } from './calibration/catalog.ts';
import { loadCalibrationSet } from './calibration/dataset.ts';
import { EVAL_POLICIES, type EvalPolicy, policyResult } from './calibration/evaluate.ts';
import { runCalibration, targetChecks } from './calibration/report.ts';
import { loadAverage } from './stats.ts';

export const CATALOG_SIZE = 50;
export const TARGET_US = 50;
/** Each batch aims at this much work, so the two clock reads around it are noise. */
const BATCH_TARGET_NS = 100_000;

// ---------------------------------------------------------------------------------------------- catalog

const clamp01 = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 100) / 100;

/**
 * The real catalog plus deterministic variants of it up to `size` models: regional / fine-tuned /
 * self-hosted copies with other prices (including free), qualities, capability sets, context windows and
 * aliases, so the filters and the scoring both have work to do.
 */
export function buildCatalog(size = CATALOG_SIZE): ModelSpec[] {
  const base = realCatalog();
  const out = [...base];
  const suffixes = ['eu', 'batch', 'ft', 'turbo', 'lite', 'long', 'selfhost'];
  const priceFactors = [0.5, 0.8, 1.25, 2, 0.3, 1.6, 0];
  const qualityDeltas = [-0.08, -0.04, -0.02, 0.01, 0.03, -0.12, -0.06];
  const capabilitySets: Capability[][] = [
    ['tools', 'vision', 'json', 'streaming'],
    ['tools', 'json', 'streaming'],
    ['streaming'],
    ['json', 'streaming'],
    ['tools', 'vision', 'streaming'],
  ];
  const contexts = [0, 32_768, 128_000, 200_000, 16_384, 1_000_000];
  for (let i = 0; out.length < size; i++) {
    const src = base[i % base.length]!;
    const suffix = suffixes[i % suffixes.length]!;
    const factor = priceFactors[(i * 3) % priceFactors.length]!;
    const dq = qualityDeltas[(i * 5) % qualityDeltas.length]!;
    const ctx = contexts[i % contexts.length] || src.context_window;
    const quality = {} as Record<Category, number>;
    CATEGORIES.forEach((c, k) => {
      quality[c] = clamp01(src.quality[c] + dq + (((i + k) % 5) - 2) * 0.01);
    });
    const scale = (x: number) => Math.round(x * factor * 1000) / 1000;
    // Spread from the real entry, so every spec has the same object shape, as when the config loader
    // builds them all.
    out.push({
      ...src,
      id: `${src.id}-${suffix}-${i}`,
      provider: `${src.provider}-${suffix}`,
      context_window: ctx,
      max_output_tokens: Math.min(src.max_output_tokens, Math.floor(ctx / 2)),
      price: {
        ...src.price,
        input: scale(src.price.input),
        output: scale(src.price.output),
        ...(src.price.cached_input === undefined ? {} : { cached_input: scale(src.price.cached_input) }),
      },
      capabilities: capabilitySets[i % capabilitySets.length]!,
      quality,
      aliases: i % 3 === 0 ? [] : i % 3 === 1 ? [`alias-${i}`] : [`alias-${i}`, `${suffix}-${i}`],
    });
  }
  return out;
}

/**
 * Health as the gateway would have it after a while: most deployments have a latency EWMA, some a
 * failure rate, one an open circuit; the rest have no data yet. The gateway's own HealthTracker.
 */
function healthFor(models: readonly ModelSpec[]): HealthTracker {
  const health = new HealthTracker({ now: () => 1_000_000 });
  models.forEach((spec, i) => {
    if (i % 4 === 3) return; // never called
    for (let k = 0; k < 5; k++) {
      health.begin(spec);
      health.succeed(spec, 300 + ((i * 37 + k * 11) % 900));
    }
    if (i % 7 === 2) {
      health.begin(spec);
      health.fail(spec);
    }
  });
  const broken = models[9];
  if (broken) {
    for (let k = 0; k < 3; k++) {
      health.begin(broken);
      health.fail(broken);
    }
  }
  return health;
}

// ---------------------------------------------------------------------------------------------- requests

/** Deterministic filler prose for the long prompt (a pasted document). */
function longDocument(targetChars: number): string {
  const subjects = ['The Supplier', 'The Customer', 'Each party', 'The Contractor', 'The Licensee'];
  const verbs = ['shall deliver', 'may terminate', 'must notify', 'will indemnify', 'shall maintain'];
  const objects = [
    'the services described in Schedule A',
    'all confidential information received under this agreement',
    'insurance coverage of not less than the amounts stated below',
    'the other party within thirty days of any material breach',
    'records sufficient to verify the fees invoiced',
  ];
  const tails = [
    'unless otherwise agreed in writing.',
    'subject to the limitations in Section 12.',
    'at its own cost and expense.',
    'in accordance with applicable law and industry practice.',
    'without undue delay.',
  ];
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const parts: string[] = [];
  let length = 0;
  for (let section = 1; length < targetChars; section++) {
    let para = `Section ${section}. `;
    for (let s = 0; s < 6; s++) {
      para += `${subjects[next(5)]} ${verbs[next(5)]} ${objects[next(5)]} ${tails[next(5)]} `;
    }
    parts.push(para.trimEnd());
    length += para.length + 2;
  }
  return parts.join('\n\n');
}

const FUNCTION_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
        required: ['city'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'search_flights',
      description: 'Search flights between two airports on a date',
      parameters: {
        type: 'object',
        properties: {
          from: { type: 'string' },
          to: { type: 'string' },
          date: { type: 'string', format: 'date' },
        },
        required: ['from', 'to', 'date'],
      },
    },
  },
];

export interface BenchRequest {
  name: string;
  /** False for the long prompt: reported, but not what the < 50 µs target is about. */
  typical: boolean;
  body: RouteRequest;
}

export function benchRequests(): BenchRequest[] {
  return [
    {
      name: 'greeting',
      typical: true,
      body: { messages: [{ role: 'user', content: 'Hi there! Thanks for the help yesterday.' }] },
    },
    {
      name: 'summary (the e2e body)',
      typical: true,
      body: {
        messages: [
          { role: 'system', content: 'You are a concise assistant.' },
          { role: 'user', content: 'Summarise the benefits of connection pooling in one sentence.' },
        ],
        max_tokens: 64,
      },
    },
    {
      name: 'code with fence',
      typical: true,
      body: {
        messages: [
          { role: 'system', content: 'You are a senior TypeScript reviewer.' },
          {
            role: 'user',
            content: [
              'This function sometimes returns stale entries. Fix it, handle the edge cases, and keep it O(1):',
              '',
              '```ts',
              'export function getCached<T>(cache: Map<string, { value: T; at: number }>, key: string, ttlMs: number): T | undefined {',
              '  const hit = cache.get(key);',
              '  if (hit && Date.now() - hit.at < ttlMs) return hit.value;',
              '  return hit?.value;',
              '}',
              '```',
              '',
              'Also explain why the original version was wrong and add a vitest test for expiry.',
            ].join('\n'),
          },
        ],
      },
    },
    {
      name: 'math with LaTeX',
      typical: true,
      body: {
        messages: [
          {
            role: 'user',
            content:
              'Prove rigorously that $\\sum_{k=1}^{n} k^2 = \\frac{n(n+1)(2n+1)}{6}$ for every integer $n \\ge 1$, ' +
              'then compute $\\int_0^1 x^2 \\, dx$ and explain how the two results relate as $n \\to \\infty$.',
          },
        ],
      },
    },
    {
      name: 'tools request',
      typical: true,
      body: {
        messages: [
          { role: 'system', content: 'You help users plan trips. Use the tools when they help.' },
          {
            role: 'user',
            content: 'What is the weather in Lisbon, and is there a flight from Berlin on 2027-03-14?',
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Lisbon","unit":"c"}' } }],
          },
          { role: 'tool', content: '{"temp_c":18,"sky":"partly cloudy"}' },
          { role: 'user', content: 'Great. Now check the flight, and answer in two short sentences.' },
        ],
        tools: FUNCTION_TOOLS,
        tool_choice: 'auto',
      },
    },
    {
      name: 'long prompt (~20k tokens)',
      typical: false,
      body: {
        messages: [
          { role: 'system', content: 'You are a careful contracts analyst.' },
          {
            role: 'user',
            content: `${longDocument(80_000)}\n\nList the five clauses above that carry the most risk for the Customer, and explain each in one sentence.`,
          },
        ],
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------- timing

export interface TimingUs {
  /** Total calls timed. */
  calls: number;
  /** Samples: one per batch. */
  batches: number;
  /** Calls per batch. */
  batch: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Aggregate CPU jiffies from /proc/stat (Linux), to report hypervisor steal; null elsewhere. */
function cpuJiffies(): { total: number; steal: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, steal: fields[7] ?? 0 };
  } catch {
    return null;
  }
}

/** Median-free estimate of one call's cost, for sizing batches. */
function perCallNs(fn: () => number, minNs: number): number {
  let calls = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minNs) {
    sink += fn();
    calls++;
    elapsed = Number(process.hrtime.bigint() - t0);
  }
  if (sink === -1) process.stdout.write('');
  return elapsed / calls;
}

/** One measurement: a function, its batch size, and the samples gathered so far. */
interface Job {
  fn: () => number;
  batch: number;
  batches: number;
  samples: number[];
  totalNs: number;
}

/**
 * Sizes a job: batches of ~BATCH_TARGET_NS each, as many as fit in `budgetNs`, within
 * [minBatches, maxBatches] (the 20k-token prompt gets fewer, longer samples).
 */
function job(fn: () => number, budgetNs: number, minBatches: number, maxBatches: number): Job {
  const ns = perCallNs(fn, 5e6);
  const batch = Math.max(1, Math.min(10_000, Math.round(BATCH_TARGET_NS / ns)));
  const batches = Math.max(minBatches, Math.min(maxBatches, Math.round(budgetNs / (batch * ns))));
  return { fn, batch, batches, samples: [], totalNs: 0 };
}

/**
 * Runs every job's batches in ROUNDS interleaved slices (job 1's slice, job 2's, …, then again), so a
 * burst of other work on a shared machine lands on every measurement alike instead of on one of them.
 */
const ROUNDS = 20;
function runJobs(jobs: Job[]): void {
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const j of jobs) {
      const slice = Math.ceil((j.batches * (round + 1)) / ROUNDS) - Math.ceil((j.batches * round) / ROUNDS);
      const { fn, batch } = j;
      for (let b = 0; b < slice; b++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < batch; i++) sink += fn();
        const ns = Number(process.hrtime.bigint() - t0);
        j.totalNs += ns;
        j.samples.push(ns / batch);
      }
    }
  }
  // Keeps the results observable, so nothing above can be optimised away.
  if (sink === -1) process.stdout.write('');
}

function timing(j: Job): TimingUs {
  const samples = Float64Array.from(j.samples).sort();
  const n = samples.length;
  const at = (p: number) => samples[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]! / 1000;
  return {
    calls: n * j.batch,
    batches: n,
    batch: j.batch,
    mean: r3(j.totalNs / (n * j.batch) / 1000),
    p50: r3(at(0.5)),
    p99: r3(at(0.99)),
    max: r3(at(1)),
  };
}

export interface RequestTiming {
  name: string;
  typical: boolean;
  promptTokens: number;
  topCategory: Category;
  difficulty: number;
  required: Capability[];
  eligible: number;
  chosen: string | null;
  analyzeUs: TimingUs;
  routeUs: TimingUs;
  /** analyzeTask + route: the decision the gateway makes for `model: "auto"`. */
  decisionUs: TimingUs;
}

export interface RoutingBenchResult {
  catalog: { models: number; fromCatalog: number; variants: number; providers: number };
  policy: RouteOptions['policy'];
  batchTargetUs: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  /** Share of all CPUs' time the hypervisor gave to others during the run (Linux); null if unknown. */
  stealPercent: number | null;
  requests: RequestTiming[];
  /**
   * route() with the gateway's HealthTracker view (most deployments have data) against a view with no
   * data: what the per-deployment health lookups cost.
   */
  healthView: { request: string; routeWithHealthUs: number; routeNoHealthDataUs: number };
  /** The slowest typical request (by p50 decision time); p99 is the worst over the typical requests. */
  typical: { worstRequest: string; mean: number; p50: number; p99: number };
  /** seenBeforeP50: the same prompt again, its long texts remembered from the last call. */
  long: { request: string; mean: number; p50: number; p99: number; seenBeforeP50: number | null } | null;
  target: { target: string; actual: number; met: boolean; mean: number; p99: number };
  /** The router on the calibration set: decisions per policy on its held-out part (docs/routing.md §5). */
  calibration: CalibrationBench;
  elapsedS: number;
}

export interface CalibrationBench {
  prompts: number;
  heldOut: number;
  policies: { policy: EvalPolicy; kept: number; costVsOracle: number; costVsLargest: number }[];
  targetsMet: boolean;
  /** analyzeTask + route over every calibration prompt in turn, on the 50-model catalog. */
  decisionUs: TimingUs;
}

function stealSince(start: { total: number; steal: number } | null): number | null {
  const end = cpuJiffies();
  if (!start || !end || end.total <= start.total) return null;
  return Math.round(((end.steal - start.steal) / (end.total - start.total)) * 1000) / 10;
}

export function runRoutingBench(options: { quick?: boolean } = {}): RoutingBenchResult {
  const started = performance.now();
  const quick = options.quick ?? false;
  const budgetNs = (quick ? 0.08 : 0.5) * 1e9;
  const [minBatches, maxBatches] = quick ? [40, 400] : [200, 2000];
  const warmupNs = (quick ? 40 : 250) * 1e6;
  const loadAverageAtStart = loadAverage();
  const cpuAtStart = cpuJiffies();

  const models = buildCatalog();
  const health = healthFor(models);
  const view = health.view;
  const routeOptions: RouteOptions = { policy: 'balanced', allowList: null, fallbacks: {} };
  const requests = benchRequests();

  const cases = requests.map((r) => {
    const task: TaskProfile = analyzeTask(r.body);
    return {
      request: r,
      task,
      // First sight of each prompt: analysis remembers long texts (routing/text-memo.ts), and a repeated
      // prompt would time the lookup instead; `seenBefore` times that separately.
      analyze: () => {
        forgetTexts();
        return analyzeTask(r.body).promptTokens;
      },
      route: () => route(models, task, view, routeOptions).candidates.length,
      decision: () => {
        forgetTexts();
        return route(models, analyzeTask(r.body), view, routeOptions).candidates.length;
      },
      seenBefore: () => route(models, analyzeTask(r.body), view, routeOptions).candidates.length,
    };
  });

  // Warm-up: every function on every request, interleaved, until each has run for its share.
  const fns = cases.flatMap((c) => [c.analyze, c.route, c.decision]);
  const perFn = warmupNs / fns.length;
  for (let round = 0; round < 4; round++) for (const fn of fns) perCallNs(fn, perFn / 4);

  // What the health lookups cost inside route(): the same route with a view that has no data.
  const reference = cases.find((c) => c.request.name.startsWith('summary')) ?? cases[0]!;
  const noHealth: HealthView = () => undefined;
  const routeNoHealth = () => route(models, reference.task, noHealth, routeOptions).candidates.length;
  perCallNs(routeNoHealth, perFn);

  const size = (fn: () => number) => job(fn, budgetNs, minBatches, maxBatches);
  const jobs = cases.map((c) => ({
    analyze: size(c.analyze),
    route: size(c.route),
    decision: size(c.decision),
  }));
  const noHealthJob = size(routeNoHealth);
  const longCase = cases.find((c) => !c.request.typical);
  const seenBeforeJob = longCase ? size(longCase.seenBefore) : null;
  runJobs([
    ...jobs.flatMap((j) => [j.analyze, j.route, j.decision]),
    noHealthJob,
    ...(seenBeforeJob ? [seenBeforeJob] : []),
  ]);

  // The calibration prompts after the rest: their long documents churn the heap and the caches, which
  // would otherwise land on the measurements above.
  const calibrationBodies = loadCalibrationSet().map((p) => p.request);
  let next = 0;
  const calibrationDecision = () =>
    route(models, analyzeTask(calibrationBodies[next++ % calibrationBodies.length]!), view, routeOptions)
      .candidates.length;
  perCallNs(calibrationDecision, perFn);
  const calibrationJob = size(calibrationDecision);
  runJobs([calibrationJob]);

  const timings: RequestTiming[] = cases.map((c, i) => {
    const plan = route(models, c.task, view, routeOptions);
    return {
      name: c.request.name,
      typical: c.request.typical,
      promptTokens: c.task.promptTokens,
      topCategory: topCategory(c.task.categories),
      difficulty: r3(c.task.difficulty),
      required: c.task.required,
      eligible: plan.candidates.filter((x) => x.eligible).length,
      chosen: plan.chosen,
      analyzeUs: timing(jobs[i]!.analyze),
      routeUs: timing(jobs[i]!.route),
      decisionUs: timing(jobs[i]!.decision),
    };
  });
  const routeNoHealthUs = timing(noHealthJob);
  const routeWithHealthUs = timings[cases.indexOf(reference)]!.routeUs;

  const typical = timings.filter((t) => t.typical);
  // The verdict uses the median batch: on a shared machine the mean also carries other tenants'
  // preemptions (and GC), which the p99 and mean columns still show.
  const worst = typical.reduce((a, b) => (b.decisionUs.p50 > a.decisionUs.p50 ? b : a));
  const worstP99 = Math.max(...typical.map((t) => t.decisionUs.p99));
  const long = timings.find((t) => !t.typical);
  return {
    catalog: {
      models: models.length,
      fromCatalog: realCatalog().length,
      variants: models.length - realCatalog().length,
      providers: new Set(models.map((m) => m.provider)).size,
    },
    policy: routeOptions.policy,
    batchTargetUs: BATCH_TARGET_NS / 1000,
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
    stealPercent: stealSince(cpuAtStart),
    requests: timings,
    healthView: {
      request: reference.request.name,
      routeWithHealthUs: routeWithHealthUs.mean,
      routeNoHealthDataUs: routeNoHealthUs.mean,
    },
    typical: {
      worstRequest: worst.name,
      mean: worst.decisionUs.mean,
      p50: worst.decisionUs.p50,
      p99: worstP99,
    },
    long: long
      ? {
          request: long.name,
          mean: long.decisionUs.mean,
          p50: long.decisionUs.p50,
          p99: long.decisionUs.p99,
          seenBeforeP50: seenBeforeJob ? timing(seenBeforeJob).p50 : null,
        }
      : null,
    target: {
      target: `< ${TARGET_US} µs (analyze + route, ${models.length} models, slowest typical request, p50)`,
      actual: worst.decisionUs.p50,
      met: worst.decisionUs.p50 < TARGET_US,
      mean: worst.decisionUs.mean,
      p99: worstP99,
    },
    calibration: calibrationBench(timing(calibrationJob)),
    elapsedS: r3((performance.now() - started) / 1000),
  };
}

function calibrationBench(decisionUs: TimingUs): CalibrationBench {
  const c = runCalibration();
  return {
    prompts: c.set.length,
    heldOut: c.heldOut.prompts,
    policies: EVAL_POLICIES.map((policy) => {
      const p = policyResult(c.heldOut, policy);
      return {
        policy,
        kept: r3(p.kept),
        costVsOracle: r3(p.costVsOracle),
        costVsLargest: r3(p.costVsLargest),
      };
    }),
    targetsMet: targetChecks(c.heldOut).every((t) => t.met),
    decisionUs,
  };
}

/** The decision-time table as text lines (µs per call). */
export function routingTable(r: RoutingBenchResult): string[] {
  const f = (x: number) => x.toFixed(2);
  const rows: string[][] = [
    ['request', 'tokens', 'eligible', 'analyze', 'route', 'decision', 'p50', 'p99', 'chosen'],
  ];
  for (const t of r.requests) {
    rows.push([
      t.name,
      String(t.promptTokens),
      `${t.eligible}/${r.catalog.models}`,
      f(t.analyzeUs.mean),
      f(t.routeUs.mean),
      f(t.decisionUs.mean),
      f(t.decisionUs.p50),
      f(t.decisionUs.p99),
      t.chosen ?? '-',
    ]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `  ${row.map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(w[i]!) : cell.padStart(w[i]!))).join('  ')}`.trimEnd();
  return [
    `routing decision, ${r.catalog.models}-model catalog (${r.catalog.fromCatalog} real + ${r.catalog.variants} variants), policy ${r.policy}: µs per call (means; decision p50/p99 over batches of ~${r.batchTargetUs} µs)`,
    `  load average ${r.loadAverageAtStart[0]} → ${r.loadAverageAtEnd[0]}${r.stealPercent === null ? '' : `, CPU steal ${r.stealPercent} %`}`,
    '',
    line(rows[0]!),
    ...rows.slice(1).map(line),
    '',
    `  decision, slowest typical request (${r.typical.worstRequest}): p50 ${f(r.typical.p50)} µs, mean ${f(r.typical.mean)} µs; worst typical p99 ${f(r.typical.p99)} µs` +
      (r.long
        ? `; long prompt: mean ${f(r.long.mean)} µs, p99 ${f(r.long.p99)} µs` +
          (r.long.seenBeforeP50 === null ? '' : `, seen before p50 ${f(r.long.seenBeforeP50)} µs`)
        : ''),
    `  route() on "${r.healthView.request}": ${f(r.healthView.routeWithHealthUs)} µs with health data, ${f(r.healthView.routeNoHealthDataUs)} µs with none`,
    `  decision over the ${r.calibration.prompts} calibration prompts in turn: mean ${f(r.calibration.decisionUs.mean)} µs, p50 ${f(r.calibration.decisionUs.p50)} µs, p99 ${f(r.calibration.decisionUs.p99)} µs`,
    '',
    `routing quality on the calibration set's held-out part (${r.calibration.heldOut} prompts, docs/routing.md §5): targets ${r.calibration.targetsMet ? 'MET' : 'MISSED'}`,
    `  ${'policy'.padEnd(15)}  ${'kept'.padStart(6)}  ${'vs oracle'.padStart(9)}  ${'vs always-largest'.padStart(17)}`,
    ...r.calibration.policies.map(
      (p) =>
        `  ${p.policy.padEnd(15)}  ${`${(p.kept * 100).toFixed(1)}%`.padStart(6)}  ${`${p.costVsOracle.toFixed(2)}×`.padStart(9)}  ${`${(p.costVsLargest * 100).toFixed(1)}%`.padStart(17)}`,
    ),
  ];
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  const result = runRoutingBench({ quick: args.includes('--quick') });
  const t = result.target;
  process.stdout.write(
    [
      '',
      ...routingTable(result),
      '',
      `target: ${t.met ? 'MET   ' : 'MISSED'}  routingDecision ${t.target}: ${t.actual} µs (mean ${t.mean}, p99 ${t.p99})`,
      '',
      '',
    ].join('\n'),
  );
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
