/**
 * Budgets and rate limits: what they add to the request path, in memory and with Redis.
 *
 *   node bench/limits.ts             # alone (~30 s): prints the table
 *   node bench/limits.ts --quick     # smoke run (~10 s)
 *   node bench/limits.ts --json      # also print the result object as JSON
 *   BENCH_REDIS_URL=redis://host:6379 node bench/limits.ts   # default redis://127.0.0.1:6379
 *   BENCH_LIMITS_N=3000 node bench/limits.ts                 # end-to-end rounds (default 1000; 150 quick)
 *   BENCH_LIMITS_ITERATIONS=50000 node bench/limits.ts       # in-process iterations (default 20000; 3000 quick)
 *
 * `npm run bench` calls runLimitsBench() after its other phases (their children stopped) and puts the
 * result in bench/results/latest.json under `limits`.
 *
 * 1. In-process: `admitWithin()` then `Admission.settle()` (src/gateway/budget/admission.ts) for a caller whose team
 *    has a budget and rpm/tpm limits and whose key has its own rpm/tpm (all large enough never to
 *    refuse): the exact work the gateway does per request, timed per call, with the memory backends and
 *    with the Redis backends (`createLimitBackends`, a unique key prefix per run, its keys deleted
 *    afterwards). With Redis the bench counts the commands each step sends, client side (a wrapper
 *    around ioredis' `sendCommand` that sees every EVALSHA), and the sequential round trips among them
 *    (a command sent while none of the same request is in flight starts a new round trip; commands sent
 *    together overlap in one); then a short pass under MONITOR counts the same commands server side and
 *    the commands the Lua scripts run inside Redis. A bare PING loop gives the loopback round-trip floor.
 * 2. End to end: one fake upstream (bench/fake-upstream.ts) and four gateway children (`node
 *    src/cli/main.ts serve`, each with its own temp SQLite store): the team without budget/limits and
 *    with a budget + team and key rpm/tpm, each once with the memory backends and once with
 *    `QUORUM_REDIS_URL` set. Every request uses the same kind of key, an API key made in the store (key
 *    limits exist only there), so both sides authenticate alike. Requests run one at a time, interleaved
 *    (direct, plain, limited, plain+redis, limited+redis, each round starting one target later), so all
 *    see the same machine conditions; the bench compares client latency and `x-quorum-overhead-ms`,
 *    as differences of percentiles and as the median of the per-round differences ("paired"). The
 *    header stops before the settle (the non-stream path settles after the overhead is measured, before
 *    the response is written), so client latency shows admit + settle and the header admit only.
 *    "plain+redis − plain" (the same request path in two processes) is the comparison's noise floor.
 *    A MONITOR pass then counts the Redis commands each gateway sends per request.
 *
 * Verdicts: in memory, the end-to-end overhead-header difference (paired p50) against 0.2 ms, with the
 * in-process admit + settle p50 beside it; with Redis, sequential round trips per request against 1.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { analyzeTask } from '../routing/analyze.ts';
import { worstCaseCost } from '../routing/filter.ts';
import type { ModelSpec } from '../routing/types.ts';
import type { ChatRequest } from '../src/chat/index.ts';
import { admitWithin, type Caller, type LimitBackends, tokenEstimate } from '../src/gateway/index.ts';
import { createLimitBackends } from '../src/limits/backends.ts';
import { openStore } from '../src/store/index.ts';
import { ChildGroup, type Gateway, isMain, runAlone, sleep, stopChild } from './children.ts';
import { CHAT, MODEL } from './request.ts';
import { columns, loadAverage, round, type Summary, summarise } from './stats.ts';

/** Issue 5: budgets + rate limits add < 0.2 ms p50 in memory, one Redis round trip with Redis. */
export const TARGET_MEMORY_MS = 0.2;
export const TARGET_REDIS_ROUND_TRIPS = 1;

const PRICE = { input: 0.15, output: 0.6 }; // USD per million tokens, as in run.ts
/** Never refuse, whatever the run length (safe integers; the budget stays far below 2^53 nanos). */
const RPM = 1_000_000_000;
const TPM = 1_000_000_000_000;
const BUDGET_USD = 1_000_000;
/** The hold's TTL: server.request_timeout_ms's default (120 s) + the 30 s margin of lifecycle.ts. */
const HOLD_TTL_MS = 150_000;

const BODY = JSON.stringify(CHAT);

// ---------------------------------------------------------------------------------------------- result

export interface RedisCount {
  /** Per request, as the client sent them (all EVALSHA after the first call). */
  commands: { admit: number; settle: number; total: number };
  /** Sequential round trips per request: commands sent while none was in flight. */
  roundTrips: { admit: number; settle: number; total: number };
  /** Per request, by script. */
  byScript: Record<string, number>;
  /** MONITOR pass: commands Redis received per request (top level) and ran inside the scripts. */
  server: { requests: number; topLevel: number; insideScripts: number } | null;
}

export interface MicroSide {
  backend: 'memory' | 'redis';
  iterations: number;
  /** µs per call. */
  admitUs: Summary;
  settleUs: Summary;
  totalUs: Summary;
  redis: RedisCount | null;
}

export interface EndToEndTarget {
  name: string;
  via: 'fake' | 'gateway';
  limits: boolean;
  redis: boolean;
  latencyMs: Summary;
  reportedOverheadMs: Summary | null;
  /** MONITOR pass: Redis commands per request this gateway sent (top level) and ran inside scripts. */
  redisPerRequest: { requests: number; topLevel: number; insideScripts: number } | null;
}

/** limited − plain, ms: percentile differences, and the median of the per-round differences. */
export interface Added {
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyPairedP50Ms: number;
  overheadP50Ms: number | null;
  overheadP99Ms: number | null;
  overheadPairedP50Ms: number | null;
}

export interface LimitsBenchResult {
  settings: {
    caller: string;
    requestBody: string;
    redisUrl: string;
    microIterations: { memory: number; redis: number };
    microWarmup: number;
    endToEndRounds: number;
    endToEndWarmupRounds: number;
    order: string;
    gatewayNodeFlags: string[];
  };
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  /** Why Redis was skipped, when it was. */
  redisNote: string | null;
  micro: {
    memory: MicroSide;
    redis: MicroSide | null;
    /** A bare PING on a fresh ioredis client: the floor of one loopback round trip, µs. */
    redisPingUs: Summary | null;
  };
  endToEnd: {
    targets: Record<string, EndToEndTarget>;
    /** What budget + limits add, memory backends. */
    addedMemory: Added;
    /** What budget + limits add with QUORUM_REDIS_URL set. */
    addedRedis: Added | null;
    /** plain+redis − plain: two identical request paths, i.e. the comparison's noise. */
    noise: Added | null;
  };
  targets: {
    memory: {
      target: string;
      /** End to end: limited − plain `x-quorum-overhead-ms`, median of the per-round differences, ms. */
      actual: number;
      /** In-process admit + settle p50, ms. */
      inProcessP50Ms: number;
      /** End to end: limited − plain client latency, median of the per-round differences, ms. */
      latencyPairedP50Ms: number;
      met: boolean;
    };
    redis: {
      target: string;
      /** Sequential Redis round trips per request (admit + settle). */
      actual: number;
      beforeUpstream: number;
      afterUpstream: number;
      met: boolean;
    } | null;
  };
  elapsedS: number;
}

// ---------------------------------------------------------------------------------------------- helpers

/** Does a Redis server answer PING at this URL within `ms`? Null when it does, else why not. */
async function redisProblem(url: string, ms = 1000): Promise<string | null> {
  let host = '127.0.0.1';
  let port = 6379;
  try {
    const u = new URL(url);
    host = u.hostname || host;
    port = Number(u.port || 6379);
  } catch {
    return `BENCH_REDIS_URL "${url}" is not a URL`;
  }
  return await new Promise<string | null>((resolveP) => {
    const socket = connect({ host, port });
    let buf = '';
    const done = (problem: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolveP(problem);
    };
    const timer = setTimeout(() => done(`Redis at ${host}:${port} did not answer PING within ${ms} ms`), ms);
    socket.once('error', (err) => done(`Redis at ${host}:${port} is unreachable (${err.message})`));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        done(buf.startsWith('+PONG') ? null : `Redis at ${host}:${port} answered ${buf.trim().slice(0, 80)}`);
      }
    });
  });
}

/** Deletes every key matching one of the patterns; returns how many were deleted. */
async function deleteKeys(redis: Redis, patterns: string[]): Promise<number> {
  let deleted = 0;
  for (const match of patterns) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}

/** Counts MONITOR lines that mention one of `markers`, split into top-level and inside-script commands. */
async function monitored(
  url: string,
  markers: string[],
  run: () => Promise<void>,
): Promise<{ topLevel: number; insideScripts: number; byCommand: Record<string, number> }> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
  const monitor = await client.monitor();
  const out = { topLevel: 0, insideScripts: 0, byCommand: {} as Record<string, number> };
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!args.some((a) => typeof a === 'string' && markers.some((m) => a.includes(m)))) return;
    if (source === 'lua') {
      out.insideScripts++;
    } else {
      out.topLevel++;
      const name = String(args[0]).toLowerCase();
      out.byCommand[name] = (out.byCommand[name] ?? 0) + 1;
    }
  });
  await sleep(50); // MONITOR is on once Redis has answered OK; give its stream a moment
  try {
    await run();
    await sleep(150); // let the last lines (settles sent after the response) arrive
  } finally {
    monitor.disconnect();
    await client.quit().catch(() => client.disconnect());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- micro

function benchCaller(team: string, keyId: string): Caller {
  return {
    team,
    keyId,
    keyName: 'bench',
    allowedModels: null,
    budget: { team, limitUsd: BUDGET_USD, period: 'monthly' },
    teamLimits: { rpm: RPM, tpm: TPM },
    keyLimits: { rpm: RPM, tpm: TPM },
    operator: false,
  };
}

// What the gateway passes to admitWithin() for CHAT and later settles with (src/gateway/pipeline/):
// the tpm estimate is the prompt estimate + max_tokens; the budget hold is chainReserve's worst case
// (analyzeTask + worstCaseCost over the one-deployment chain); the answer uses 15 tokens.
const request = CHAT as unknown as ChatRequest;
const SPEC = { id: MODEL, price: PRICE, max_output_tokens: 4096 } as unknown as ModelSpec;
const promptTokens = tokenEstimate(request) - CHAT.max_tokens;
const BOUNDS = {
  estimateTokens: () => tokenEstimate(request),
  reserveUsd: () => worstCaseCost(SPEC, analyzeTask(request)),
};
const ACTUAL_TOKENS = promptTokens + 15;
const ACTUAL_USD = (promptTokens * PRICE.input + 15 * PRICE.output) / 1e6;

interface Probe {
  /** Called around each step; `phase` is what the next commands belong to. */
  phase(name: 'admit' | 'settle' | null): void;
}

async function microLoop(
  limits: LimitBackends,
  caller: Caller,
  n: number,
  probe?: Probe,
): Promise<{ admit: number[]; settle: number[]; total: number[] }> {
  const a: number[] = [];
  const s: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    probe?.phase('admit');
    const t0 = performance.now();
    const admission = await admitWithin(limits, caller, BOUNDS, HOLD_TTL_MS);
    const t1 = performance.now();
    probe?.phase('settle');
    await admission.settle(ACTUAL_USD, ACTUAL_TOKENS);
    const t2 = performance.now();
    probe?.phase(null);
    a.push((t1 - t0) * 1000);
    s.push((t2 - t1) * 1000);
    t.push((t2 - t0) * 1000);
  }
  return { admit: a, settle: s, total: t };
}

/**
 * Wraps ioredis' sendCommand (every command, scripts included, goes through it) to count the commands
 * of one request step that touch `prefix`, and the sequential round trips among them.
 */
function countCommands(prefix: string) {
  type Step = 'admit' | 'settle';
  const commands: Record<Step, number> = { admit: 0, settle: 0 };
  const roundTrips: Record<Step, number> = { admit: 0, settle: 0 };
  const byScript: Record<string, number> = {};
  let step: Step | null = null;
  let inflight = 0;
  const proto = Redis.prototype as unknown as {
    sendCommand: (
      command: { name: string; args: unknown[]; promise: Promise<unknown> },
      ...rest: unknown[]
    ) => unknown;
  };
  const original = proto.sendCommand;
  proto.sendCommand = function (this: unknown, command, ...rest) {
    const result = original.call(this, command, ...rest);
    const keys = command.args.filter((a): a is string => typeof a === 'string' && a.startsWith(prefix));
    if (step && keys.length) {
      commands[step]++;
      if (inflight++ === 0) roundTrips[step]++;
      const done = () => {
        inflight--;
      };
      command.promise.then(done, done);
      // Which script: rate keys are `{prefix}rate:…` (admit: 2 per subject, adjust: 1), budget keys 3.
      const kind = keys[0]!.slice(prefix.length).startsWith('rate:')
        ? keys.length === 1
          ? 'rate adjust'
          : 'rate admit (key + team)'
        : step === 'admit'
          ? 'budget reserve'
          : 'budget settle';
      byScript[kind] = (byScript[kind] ?? 0) + 1;
    }
    return result;
  };
  return {
    probe: {
      phase(name: Step | null) {
        step = name;
      },
    } as Probe,
    restore() {
      proto.sendCommand = original;
    },
    perRequest(n: number) {
      const per = (x: number) => round(x / n, 2);
      return {
        commands: {
          admit: per(commands.admit),
          settle: per(commands.settle),
          total: per(commands.admit + commands.settle),
        },
        roundTrips: {
          admit: per(roundTrips.admit),
          settle: per(roundTrips.settle),
          total: per(roundTrips.admit + roundTrips.settle),
        },
        byScript: Object.fromEntries(Object.entries(byScript).map(([k, v]) => [k, per(v)])),
      };
    },
  };
}

async function microMemory(n: number, warmup: number, runId: string): Promise<MicroSide> {
  const limits = createLimitBackends({});
  try {
    const caller = benchCaller(`bench-${runId}`, `key_bench_${runId}`);
    await microLoop(limits, caller, warmup);
    const r = await microLoop(limits, caller, n);
    return {
      backend: 'memory',
      iterations: n,
      admitUs: summarise(r.admit),
      settleUs: summarise(r.settle),
      totalUs: summarise(r.total),
      redis: null,
    };
  } finally {
    await limits.close();
  }
}

async function microRedis(
  url: string,
  n: number,
  warmup: number,
  runId: string,
  log: (m: string) => void,
): Promise<{ side: MicroSide; pingUs: Summary }> {
  const prefix = `quorum-bench:${runId}:`;
  const limits = createLimitBackends({
    redisUrl: url,
    prefix,
    onWarn: (m, err) => log(`limits (redis): ${m}${err instanceof Error ? `: ${err.message}` : ''}`),
  });
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  admin.on('error', () => {});
  try {
    if (!(await limits.ready(2000))) throw new Error(`Redis at ${url} not ready within 2 s`);
    const caller = benchCaller(`bench-${runId}`, `key_bench_${runId}`);
    // The round-trip floor: PING on an idle client, one at a time.
    for (let i = 0; i < 200; i++) await admin.ping();
    const ping: number[] = [];
    for (let i = 0; i < Math.min(n, 2000); i++) {
      const t0 = performance.now();
      await admin.ping();
      ping.push((performance.now() - t0) * 1000);
    }
    await microLoop(limits, caller, warmup); // also loads the scripts (EVALSHA → NOSCRIPT → EVAL once)
    const counter = countCommands(prefix);
    let r: Awaited<ReturnType<typeof microLoop>>;
    try {
      r = await microLoop(limits, caller, n, counter.probe);
    } finally {
      counter.restore();
    }
    const serverN = Math.min(200, n);
    const server = await monitored(url, [prefix], async () => {
      await microLoop(limits, caller, serverN);
    });
    return {
      side: {
        backend: 'redis',
        iterations: n,
        admitUs: summarise(r.admit),
        settleUs: summarise(r.settle),
        totalUs: summarise(r.total),
        redis: {
          ...counter.perRequest(n),
          server: {
            requests: serverN,
            topLevel: round(server.topLevel / serverN, 2),
            insideScripts: round(server.insideScripts / serverN, 2),
          },
        },
      },
      pingUs: summarise(ping),
    };
  } finally {
    await limits.close();
    const deleted = await deleteKeys(admin, [`${prefix}*`]).catch(() => -1);
    if (deleted < 0) log(`limits: could not delete the keys under ${prefix}`);
    await admin.quit().catch(() => admin.disconnect());
  }
}

// ---------------------------------------------------------------------------------------------- end to end

interface Variant {
  name: string;
  limits: boolean;
  redis: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'plain', limits: false, redis: false },
  { name: 'limited', limits: true, redis: false },
  { name: 'plain+redis', limits: false, redis: true },
  { name: 'limited+redis', limits: true, redis: true },
];

function configYaml(upstream: string, team: string, limited: boolean, staticKey: string): string {
  return [
    'providers:',
    `  - { id: fake, type: openai, base_url: ${upstream}/v1, api_key: test-key, max_retries: 0 }`,
    'models:',
    `  - { id: ${MODEL}, provider: fake, context_window: 128000, max_output_tokens: 4096, price: { input: ${PRICE.input}, output: ${PRICE.output} }, capabilities: [tools, json, streaming] }`,
    'cache: { enabled: false }',
    'teams:',
    limited
      ? `  - { id: ${team}, budget: { limit_usd: ${BUDGET_USD}, period: monthly }, limits: { rpm: ${RPM}, tpm: ${TPM} } }`
      : `  - { id: ${team} }`,
    // An unused static key, so the gateway is not in open mode; requests use the store key.
    'keys:',
    `  - { key: ${staticKey}, team: ${team} }`,
    '',
  ].join('\n');
}

/** Makes the store (migrations, pepper), the team and an API key with or without key limits. */
async function prepareStore(dbPath: string, team: string, limited: boolean) {
  const store = await openStore(`sqlite:${dbPath}`);
  try {
    await store.teams.upsert({
      id: team,
      budget: limited ? { limit_usd: BUDGET_USD, period: 'monthly' } : null,
      limits: limited ? { rpm: RPM, tpm: TPM } : null,
      models: null,
    });
    const created = await store.keys.create({
      team,
      name: 'bench',
      ...(limited ? { limits: { rpm: RPM, tpm: TPM } } : {}),
    });
    return { key: created.key, keyId: created.id };
  } finally {
    await store.close();
  }
}

interface Samples {
  latency: number[];
  overhead: number[];
}

async function oneRequest(url: string, auth: string, into: Samples | null): Promise<Response> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` },
    body: BODY,
  });
  await r.arrayBuffer();
  const dt = performance.now() - t0;
  if (!r.ok) throw new Error(`request to ${url} failed: HTTP ${r.status}`);
  if (into) {
    into.latency.push(dt);
    const o = r.headers.get('x-quorum-overhead-ms');
    if (o !== null && Number.isFinite(Number(o))) into.overhead.push(Number(o));
  }
  return r;
}

const median = (xs: number[]) => summarise(xs).p50;

function addedOf(limited: Samples, plain: Samples): Added {
  const l = summarise(limited.latency);
  const p = summarise(plain.latency);
  const hasOverhead = limited.overhead.length === limited.latency.length && plain.overhead.length > 0;
  const lo = hasOverhead ? summarise(limited.overhead) : null;
  const po = hasOverhead ? summarise(plain.overhead) : null;
  const paired = (a: number[], b: number[]) => round(median(a.map((x, i) => x - (b[i] ?? NaN))), 3);
  return {
    latencyP50Ms: round(l.p50 - p.p50, 3),
    latencyP99Ms: round(l.p99 - p.p99, 3),
    latencyPairedP50Ms: paired(limited.latency, plain.latency),
    overheadP50Ms: lo && po ? round(lo.p50 - po.p50, 3) : null,
    overheadP99Ms: lo && po ? round(lo.p99 - po.p99, 3) : null,
    overheadPairedP50Ms: hasOverhead ? paired(limited.overhead, plain.overhead) : null,
  };
}

// ---------------------------------------------------------------------------------------------- run

function envCount(name: string): number | undefined {
  const n = Math.round(Number(process.env[name] ?? ''));
  return n > 0 ? n : undefined;
}

export async function runLimitsBench(
  options: { quick?: boolean; log?: (m: string) => void; nodeFlags?: string[]; redisUrl?: string } = {},
): Promise<LimitsBenchResult> {
  const started = Date.now();
  const log = options.log ?? ((m: string) => process.stderr.write(`[limits] ${m}\n`));
  const quick = options.quick ?? false;
  const nodeFlags = options.nodeFlags ?? [];
  const redisUrl = options.redisUrl ?? process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const memIterations = envCount('BENCH_LIMITS_ITERATIONS') ?? (quick ? 3000 : 20_000);
  const redisIterations = Math.max(200, Math.round(memIterations / 4));
  const microWarmup = quick ? 500 : 2000;
  const rounds = envCount('BENCH_LIMITS_N') ?? (quick ? 150 : 1000);
  const warmupRounds = quick ? 30 : 100;
  const loadAverageAtStart = loadAverage();
  const runId = randomBytes(4).toString('hex');
  const team = `bench-${runId}`;

  const redisNote = await redisProblem(redisUrl);
  if (redisNote) log(`limits: ${redisNote}; skipping the Redis measurements`);

  // 1. in-process, before any child exists
  log(
    `limits: admit + settle in-process, ${memIterations} iterations in memory${redisNote ? '' : `, ${redisIterations} with Redis`}`,
  );
  const memory = await microMemory(memIterations, microWarmup, runId);
  log(
    `  memory: admit + settle p50 ${memory.totalUs.p50} µs, p99 ${memory.totalUs.p99} µs (admit ${memory.admitUs.p50}, settle ${memory.settleUs.p50})`,
  );
  let redisSide: MicroSide | null = null;
  let redisPingUs: Summary | null = null;
  if (!redisNote) {
    const r = await microRedis(redisUrl, redisIterations, Math.min(microWarmup, 500), runId, log);
    redisSide = r.side;
    redisPingUs = r.pingUs;
    const c = redisSide.redis!;
    log(
      `  redis:  admit + settle p50 ${redisSide.totalUs.p50} µs, p99 ${redisSide.totalUs.p99} µs; ${c.commands.total} commands, ${c.roundTrips.total} sequential round trips per request (PING p50 ${redisPingUs.p50} µs)`,
    );
  }

  // 2. end to end
  const group = new ChildGroup('quorum-bench-limits-', log);
  const gateways: { variant: Variant; gateway: Gateway; url: string; key: string; keyId: string }[] = [];
  const redisKeyPatterns: string[] = [`quorum:budget:${team}:*`, `quorum:rate:team:${team}:*`];
  try {
    const fake = await group.upstream('limits fake upstream', 'bench/fake-upstream.ts');
    const direct = fake.url;
    const variants = VARIANTS.filter((v) => !v.redis || !redisNote);
    log(`limits: starting ${variants.length} gateways (${variants.map((v) => v.name).join(', ')})`);
    for (const variant of variants) {
      const dir = join(group.dir, variant.name.replace(/\W/g, '-'));
      const dbPath = `${dir}.db`;
      const { key, keyId } = await prepareStore(dbPath, team, variant.limits);
      if (variant.redis) redisKeyPatterns.push(`quorum:rate:key:${keyId}:*`);
      const configPath = `${dir}.yaml`;
      writeFileSync(configPath, configYaml(direct, team, variant.limits, `bench-static-${runId}`));
      const gateway = await group.gateway({
        name: `limits gateway (${variant.name})`,
        configPath,
        nodeFlags,
        env: {
          QUORUM_DATABASE_URL: `sqlite:${dbPath}`,
          QUORUM_REDIS_URL: variant.redis ? redisUrl : undefined,
        },
      });
      gateways.push({ variant, gateway, url: gateway.url, key, keyId });
    }
    for (const g of gateways) await g.gateway.ready();

    // sanity: every gateway answers; the limited ones count the request (x-ratelimit-* headers)
    for (const g of gateways) {
      const r = await oneRequest(g.url, g.key, null);
      const limited = r.headers.get('x-ratelimit-limit-requests') !== null;
      if (limited !== g.variant.limits) {
        throw new Error(
          `gateway ${g.variant.name}: x-ratelimit-limit-requests is ${limited ? 'present' : 'absent'}; limits not ${g.variant.limits ? 'applied' : 'off'}`,
        );
      }
    }

    const targets = [
      { name: 'direct', url: direct, key: 'bench', variant: null as Variant | null },
      ...gateways.map((g) => ({ name: g.variant.name, url: g.url, key: g.key, variant: g.variant })),
    ];
    const samples = new Map<string, Samples>(targets.map((t) => [t.name, { latency: [], overhead: [] }]));
    // Round i starts at target i mod k, so every target takes every position equally often: a request's
    // latency depends on which process ran just before it, and a fixed order biases the comparison.
    const roundOf = async (i: number, record: boolean) => {
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(i + j) % targets.length]!;
        await oneRequest(t.url, t.key, record ? samples.get(t.name)! : null);
      }
    };
    log(
      `limits: ${warmupRounds} warm-up rounds, then ${rounds} sequential requests per target, interleaved (${targets.map((t) => t.name).join(', ')})`,
    );
    for (let i = 0; i < warmupRounds; i++) await roundOf(i, false);
    for (let i = 0; i < rounds; i++) await roundOf(i, true);

    // Redis commands per request, server side (a separate pass: MONITOR slows Redis down)
    const redisPerRequest = new Map<string, EndToEndTarget['redisPerRequest']>();
    if (!redisNote) {
      const m = quick ? 20 : 50;
      for (const g of gateways.filter((x) => x.variant.redis)) {
        const seen = await monitored(redisUrl, [team, g.keyId], async () => {
          for (let i = 0; i < m; i++) await oneRequest(g.url, g.key, null);
        });
        redisPerRequest.set(g.variant.name, {
          requests: m,
          topLevel: round(seen.topLevel / m, 2),
          insideScripts: round(seen.insideScripts / m, 2),
        });
      }
    }

    await Promise.all(gateways.map((g) => stopChild(g.gateway.child)));
    await stopChild(fake.child);

    const resultTargets: Record<string, EndToEndTarget> = {};
    for (const t of targets) {
      const s = samples.get(t.name)!;
      resultTargets[t.name] = {
        name: t.name,
        via: t.variant ? 'gateway' : 'fake',
        limits: t.variant?.limits ?? false,
        redis: t.variant?.redis ?? false,
        latencyMs: summarise(s.latency),
        reportedOverheadMs: s.overhead.length ? summarise(s.overhead) : null,
        redisPerRequest: redisPerRequest.get(t.name) ?? null,
      };
    }
    const S = (name: string) => samples.get(name)!;
    const addedMemory = addedOf(S('limited'), S('plain'));
    const addedRedis = redisNote ? null : addedOf(S('limited+redis'), S('plain+redis'));
    const noise = redisNote ? null : addedOf(S('plain+redis'), S('plain'));

    const rt = redisSide?.redis ?? null;
    // Every gateway answer carries the header, so this is never null here; NaN would fail the target.
    const memoryActual = addedMemory.overheadPairedP50Ms ?? Number.NaN;
    return {
      settings: {
        caller: `team with a ${BUDGET_USD} USD monthly budget and rpm ${RPM} / tpm ${TPM}; key with rpm ${RPM} / tpm ${TPM}`,
        requestBody: `${BODY.length}-byte chat request, max_tokens ${CHAT.max_tokens} (token estimate ${BOUNDS.estimateTokens()}); settled with ${ACTUAL_TOKENS} tokens`,
        redisUrl,
        microIterations: { memory: memIterations, redis: redisNote ? 0 : redisIterations },
        microWarmup,
        endToEndRounds: rounds,
        endToEndWarmupRounds: warmupRounds,
        order: `interleaved, one request at a time: ${targets.map((t) => t.name).join(', ')}, the start rotating by one each round`,
        gatewayNodeFlags: nodeFlags,
      },
      loadAverageAtStart,
      loadAverageAtEnd: loadAverage(),
      redisNote,
      micro: { memory, redis: redisSide, redisPingUs },
      endToEnd: { targets: resultTargets, addedMemory, addedRedis, noise },
      targets: {
        memory: {
          target: `< ${TARGET_MEMORY_MS} ms p50 added in memory (gateway-reported overhead, limited − plain, paired)`,
          actual: memoryActual,
          inProcessP50Ms: round(memory.totalUs.p50 / 1000, 4),
          latencyPairedP50Ms: addedMemory.latencyPairedP50Ms,
          met: memoryActual < TARGET_MEMORY_MS,
        },
        redis: rt
          ? {
              target: `${TARGET_REDIS_ROUND_TRIPS} Redis round trip per request`,
              actual: rt.roundTrips.total,
              beforeUpstream: rt.roundTrips.admit,
              afterUpstream: rt.roundTrips.settle,
              met: rt.roundTrips.total <= TARGET_REDIS_ROUND_TRIPS,
            }
          : null,
      },
      elapsedS: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await group.close();
    if (!redisNote) {
      const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      admin.on('error', () => {});
      const deleted = await deleteKeys(admin, redisKeyPatterns).catch(() => -1);
      if (deleted < 0) log(`limits: could not delete the gateways' keys (${redisKeyPatterns.join(', ')})`);
      await admin.quit().catch(() => admin.disconnect());
    }
  }
}

// ---------------------------------------------------------------------------------------------- table

const f = (x: number | null | undefined, d = 2) =>
  x !== null && x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a';
const signed = (x: number | null, d = 3) =>
  x === null || !Number.isFinite(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;

export function limitsTable(r: LimitsBenchResult): string[] {
  const pair = (s: Summary, d = 1) => `${f(s.p50, d)} / ${f(s.p99, d)}`;
  const sides = [r.micro.memory, ...(r.micro.redis ? [r.micro.redis] : [])];
  const micro = columns([
    [
      'budgets + rate limits in-process (team budget, team + key rpm/tpm)',
      'iterations',
      'admit p50 / p99 (µs)',
      'settle p50 / p99',
      'admit + settle p50 / p99',
    ],
    ...sides.map((s) => [
      s.backend === 'memory' ? 'memory backends' : 'Redis backends',
      String(s.iterations),
      pair(s.admitUs),
      pair(s.settleUs),
      pair(s.totalUs),
    ]),
  ]);
  const lines = [...micro];
  const rt = r.micro.redis?.redis;
  if (rt) {
    lines.push(
      `  Redis per request (counted client side): ${rt.commands.total} commands (admit ${rt.commands.admit}, settle ${rt.commands.settle}), ` +
        `${rt.roundTrips.total} sequential round trips (admit ${rt.roundTrips.admit}, settle ${rt.roundTrips.settle})`,
      `    ${Object.entries(rt.byScript)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}; MONITOR: ${rt.server?.topLevel} top-level, ${rt.server?.insideScripts} inside the scripts; PING p50 / p99 ${pair(r.micro.redisPingUs!)} µs`,
    );
  } else if (r.redisNote) {
    lines.push(`  Redis skipped: ${r.redisNote}`);
  }
  const t = r.endToEnd.targets;
  const ov = (x: EndToEndTarget | undefined) => (x?.reportedOverheadMs ? pair(x.reportedOverheadMs, 3) : '');
  const addedRow = (label: string, a: Added | null): string[] =>
    a
      ? [
          label,
          `${signed(a.latencyP50Ms)} / ${signed(a.latencyP99Ms)}`,
          signed(a.latencyPairedP50Ms),
          `${signed(a.overheadP50Ms)} / ${signed(a.overheadP99Ms)}`,
          signed(a.overheadPairedP50Ms),
        ]
      : [label, 'n/a', '', '', ''];
  const rows: string[][] = [
    [
      `end to end (${r.settings.endToEndRounds} sequential requests each, interleaved)`,
      'latency p50 / p99 (ms)',
      'paired p50',
      'overhead hdr p50 / p99',
      'paired p50',
    ],
    ...Object.values(t).map((x) => [
      `${x.name}${x.redisPerRequest ? ` (${x.redisPerRequest.topLevel} Redis cmds/req)` : ''}`,
      pair(x.latencyMs, 3),
      '',
      ov(x),
      '',
    ]),
    addedRow('added in memory: limited − plain', r.endToEnd.addedMemory),
    ...(r.endToEnd.addedRedis
      ? [addedRow('added with Redis: limited+redis − plain+redis', r.endToEnd.addedRedis)]
      : []),
    ...(r.endToEnd.noise ? [addedRow('noise: plain+redis − plain (same path)', r.endToEnd.noise)] : []),
  ];
  lines.push('', ...columns(rows));
  const tm = r.targets.memory;
  lines.push(
    `  budgets + limits in memory, ${tm.target}: ${signed(tm.actual)} ms → ${tm.met ? 'MET' : 'MISSED'}`,
    `    (in-process admit + settle p50 ${f(tm.inProcessP50Ms, 4)} ms; client latency paired p50 ${signed(tm.latencyPairedP50Ms)} ms)`,
  );
  const tr = r.targets.redis;
  if (tr) {
    lines.push(
      `  with Redis, ${tr.target}: ${tr.actual} sequential (${tr.beforeUpstream} before the upstream call, ${tr.afterUpstream} after) → ${tr.met ? 'MET' : 'MISSED'}`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------- alone

if (isMain(import.meta.url)) runAlone('limits', runLimitsBench, limitsTable);
