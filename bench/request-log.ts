/**
 * The request log: what recording every request adds to the request path.
 *
 *   node bench/request-log.ts            # alone (~1 min): prints the table
 *   node bench/request-log.ts --quick    # smoke run (~15 s)
 *   node bench/request-log.ts --json     # also print the result object as JSON
 *   BENCH_REQLOG_N=3000 node bench/request-log.ts   # sequential rounds (default 1000; 200 quick)
 *
 * One fake upstream (bench/fake-upstream.ts) and four gateway children (`node src/cli/main.ts serve`),
 * each with its own temp SQLite store and the same config but its `logging` section: two with the log
 * off (`logging.requests: false`, the second one measuring the noise between two identical processes),
 * one with the log on (the default) and one with content logging on too.
 *
 * 1. Sequential: requests one at a time, interleaved (each round starting one target later), so every
 *    target sees the same machine conditions; the figures are client latency and `x-quorum-overhead-ms`,
 *    as differences to the first "off" gateway: of percentiles and the median of per-round differences
 *    ("paired").
 * 2. Load: each gateway under the same closed loop (autocannon, 16 connections), in alternating rounds:
 *    requests per second, and the gateway's CPU time per request (/proc, all threads).
 * 3. Afterwards every gateway is stopped (SIGTERM: it writes what it buffered) and its store is opened:
 *    the rows the log holds are counted against the requests it answered.
 * 4. In-process, first: the log's own work per request, timed apart from everything else (a real
 *    RequestLog over a real SQLite store; the gateway's facts are a fixed record of a chat request with
 *    an `auto` route): what runs on the request path (open the record, note the request, finish it),
 *    what runs after the response (build the row and append it), and the batched INSERT, per record.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OPEN_CALLER, type RequestFacts } from '../src/gateway/index.ts';
import { RequestLog } from '../src/request-log/index.ts';
import { openStore } from '../src/store/index.ts';
import { ChildGroup, type Gateway, isMain, runAlone, stopChild } from './children.ts';
import { load } from './load.ts';
import { CHAT, fakeConfigYaml, MODEL } from './request.ts';
import { columns, loadAverage, round, type Summary, summarise } from './stats.ts';

const BODY = JSON.stringify(CHAT);
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer bench' };

const VARIANTS = [
  { name: 'off', logging: '{ requests: false }' },
  { name: 'on', logging: '{ requests: true }' },
  { name: 'content', logging: '{ requests: true, content: true }' },
  { name: 'off (2)', logging: '{ requests: false }' },
] as const;

interface Samples {
  latency: number[];
  overhead: number[];
}

export interface RequestLogTarget {
  name: string;
  logging: string;
  latencyMs: Summary;
  overheadMs: Summary;
  /** Against `off`: percentiles' difference and the median of per-round differences. */
  added: { latencyP50Ms: number; latencyPairedP50Ms: number; overheadPairedP50Ms: number } | null;
  load: { reqPerSec: number; cpuUsPerRequest: number } | null;
  /** Requests the gateway answered, and the rows its request log holds after it stopped. */
  answered: number;
  rows: number;
}

/** µs per record, in-process. */
export interface MicroResult {
  records: number;
  /** begin + asked + finish: on the request path. */
  requestPathUs: number;
  /** Building the row and appending it to the writer: after the response, on the event loop. */
  buildUs: number;
  /** The batched INSERT, amortised per record (SQLite). */
  writeUs: number;
}

export interface RequestLogBenchResult {
  settings: { rounds: number; warmupRounds: number; loadSeconds: number; connections: number };
  micro: { off: MicroResult; content: MicroResult };
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  targets: RequestLogTarget[];
  elapsedS: number;
}

function configYaml(upstream: string, logging: string): string {
  return fakeConfigYaml(upstream, { lines: ['cache: { enabled: false }', `logging: ${logging}`] });
}

async function oneRequest(url: string, into: Samples | null): Promise<void> {
  const t0 = performance.now();
  const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: HEADERS, body: BODY });
  await r.arrayBuffer();
  const dt = performance.now() - t0;
  if (!r.ok) throw new Error(`request to ${url} failed: HTTP ${r.status}`);
  if (into) {
    into.latency.push(dt);
    into.overhead.push(Number(r.headers.get('x-quorum-overhead-ms')));
  }
}

/** User + system CPU time of a process, in µs (every thread). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

const median = (xs: number[]) => summarise(xs).p50;
const paired = (a: number[], b: number[]) => round(median(a.map((x, i) => x - (b[i] ?? Number.NaN))), 3);

const ROUTE = {
  policy: 'balanced' as const,
  chosen: MODEL,
  why: `both clear the bar 0.70; \`${MODEL}\` is 5.0× cheaper than \`model-1\``,
  candidates: Array.from({ length: 5 }, (_, i) => ({
    model: `model-${i}`,
    eligible: true,
    scores: { quality: 0.7, cost_usd: 0.0016, latency_ms: 420.5, total: 0.43 },
  })),
};

/** The log's own work per record, in-process, over a real SQLite store. */
async function micro(dir: string, content: boolean, records: number): Promise<MicroResult> {
  const store = await openStore(`sqlite:${join(dir, `micro-${content}-${records}.db`)}`, {
    requestLog: { flushIntervalMs: 60_000, batchSize: 1000, maxBuffered: records + 1 },
  });
  const log = new RequestLog(store.requestLog, { content, retentionDays: 30, contentRetentionDays: 7 });
  const caller = { ...OPEN_CALLER, team: 'bench', keyName: 'bench', operator: false };
  const facts: RequestFacts = {
    attempts: [{ model: MODEL, provider: 'fake', status: 200, latency_ms: 3 }],
    route: ROUTE,
    answer: undefined,
    inputTokens: 30,
    outputTokens: 15,
    costNanos: 13_500,
  };
  const request = { facts: () => facts, settling: () => undefined };
  const end = {
    status: 200,
    models: MODEL,
    overheadMs: 0.25,
    cache: null,
    failure: undefined,
    cancelled: false,
  };
  const t0 = performance.now();
  for (let i = 0; i < records; i++) {
    // What the middleware, the endpoint and the gateway do for one request, up to its last byte.
    const draft = log.begin(`bench-${content}-${i}`, 'chat.completions', caller, t0);
    draft.asked(MODEL, false, undefined, CHAT.messages);
    draft.request = request;
    if (content) draft.answer = 'Connection pooling reuses open connections, saving handshakes.';
    draft.finish({ ...end, endedAt: performance.now() });
  }
  const t1 = performance.now();
  // The records are built on the next turn of the event loop (check phase); the writes start after it.
  await new Promise((resolve) => setImmediate(resolve));
  const t2 = performance.now();
  await store.requestLog.flush();
  const t3 = performance.now();
  await store.close();
  const us = (ms: number) => round((ms * 1000) / records, 2);
  return { records, requestPathUs: us(t1 - t0), buildUs: us(t2 - t1), writeUs: us(t3 - t2) };
}

export async function runRequestLogBench(
  options: { quick?: boolean; nodeFlags?: string[]; log?: (m: string) => void } = {},
): Promise<RequestLogBenchResult> {
  const started = Date.now();
  const log = options.log ?? ((m: string) => process.stderr.write(`[request-log] ${m}\n`));
  const quick = options.quick ?? false;
  const rounds = Number(process.env.BENCH_REQLOG_N) || (quick ? 200 : 1000);
  const warmupRounds = quick ? 30 : 100;
  const loadSeconds = quick ? 2 : 5;
  const loadRounds = quick ? 1 : 3;
  const connections = 16;
  const loadAverageAtStart = loadAverage();
  const group = new ChildGroup('quorum-bench-reqlog-', log);
  try {
    const records = quick ? 5_000 : 20_000;
    log(`in-process: ${records} records, without and with content`);
    await micro(group.dir, false, 2_000);
    const microOff = await micro(group.dir, false, records);
    const microContent = await micro(group.dir, true, records);
    const fake = await group.upstream('request-log fake upstream', 'bench/fake-upstream.ts');
    const gateways: { variant: (typeof VARIANTS)[number]; gateway: Gateway; db: string; answered: number }[] =
      [];
    for (const variant of VARIANTS) {
      const base = join(group.dir, variant.name.replace(/\W/g, '-'));
      writeFileSync(`${base}.yaml`, configYaml(fake.url, variant.logging));
      const gateway = await group.gateway({
        name: `gateway (log ${variant.name})`,
        configPath: `${base}.yaml`,
        nodeFlags: options.nodeFlags ?? [],
        env: { QUORUM_DATABASE_URL: `sqlite:${base}.db` },
      });
      gateways.push({ variant, gateway, db: `${base}.db`, answered: 0 });
    }
    for (const g of gateways) await g.gateway.ready();

    const samples = new Map(gateways.map((g) => [g.variant.name, { latency: [], overhead: [] } as Samples]));
    log(`${warmupRounds} warm-up rounds, then ${rounds} sequential requests per gateway, interleaved`);
    const roundOf = async (i: number, record: boolean) => {
      for (let j = 0; j < gateways.length; j++) {
        const g = gateways[(i + j) % gateways.length]!;
        await oneRequest(g.gateway.url, record ? samples.get(g.variant.name)! : null);
        g.answered++;
      }
    };
    for (let i = 0; i < warmupRounds; i++) await roundOf(i, false);
    for (let i = 0; i < rounds; i++) await roundOf(i, true);

    log(`load: ${loadRounds} round(s) of ${loadSeconds} s per gateway, ${connections} connections`);
    const loads = new Map(
      gateways.map((g) => [g.variant.name, { rps: [] as number[], cpu: [] as number[] }]),
    );
    for (let r = 0; r < loadRounds; r++) {
      for (let j = 0; j < gateways.length; j++) {
        const g = gateways[(r + j) % gateways.length]!;
        const pid = g.gateway.child.pid!;
        const cpu0 = cpuUs(pid);
        const result = await load(g.gateway.url, {
          seconds: loadSeconds,
          connections,
          record: false,
          body: BODY,
          headers: HEADERS,
        });
        const cpu = cpuUs(pid) - cpu0;
        g.answered += result.requests - result.non2xx - result.errors;
        loads.get(g.variant.name)!.rps.push(result.reqPerSec);
        loads.get(g.variant.name)!.cpu.push(cpu / Math.max(1, result.requests));
      }
    }

    // Stopping a gateway writes what its log buffered; then its store says what was kept.
    await Promise.all(gateways.map((g) => stopChild(g.gateway.child)));
    await stopChild(fake.child);
    const base = samples.get('off')!;
    const targets: RequestLogTarget[] = [];
    for (const g of gateways) {
      const store = await openStore(`sqlite:${g.db}`);
      const row = await store.db
        .selectFrom('request_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      await store.close();
      const s = samples.get(g.variant.name)!;
      const l = loads.get(g.variant.name)!;
      targets.push({
        name: g.variant.name,
        logging: g.variant.logging,
        latencyMs: summarise(s.latency),
        overheadMs: summarise(s.overhead),
        added:
          g.variant.name === 'off'
            ? null
            : {
                latencyP50Ms: round(summarise(s.latency).p50 - summarise(base.latency).p50, 3),
                latencyPairedP50Ms: paired(s.latency, base.latency),
                overheadPairedP50Ms: paired(s.overhead, base.overhead),
              },
        load: { reqPerSec: round(median(l.rps), 0), cpuUsPerRequest: round(median(l.cpu), 1) },
        answered: g.answered,
        rows: Number(row.n),
      });
    }
    return {
      settings: { rounds, warmupRounds, loadSeconds, connections },
      micro: { off: microOff, content: microContent },
      loadAverageAtStart,
      loadAverageAtEnd: loadAverage(),
      targets,
      elapsedS: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    await group.close();
  }
}

export function requestLogTable(r: RequestLogBenchResult): string[] {
  const f = (x: number) => x.toFixed(3);
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  const rows = [
    [
      'request log',
      'latency p50 / p99 (ms)',
      'paired Δ p50',
      'overhead hdr p50 / p99',
      'paired Δ p50',
      'req/s (16 conn)',
      'CPU µs/req',
      'rows / answered',
    ],
    ...r.targets.map((t) => [
      `${t.name} ${t.logging}`,
      `${f(t.latencyMs.p50)} / ${f(t.latencyMs.p99)}`,
      t.added ? signed(t.added.latencyPairedP50Ms) : '',
      `${f(t.overheadMs.p50)} / ${f(t.overheadMs.p99)}`,
      t.added ? signed(t.added.overheadPairedP50Ms) : '',
      String(t.load?.reqPerSec ?? ''),
      String(t.load?.cpuUsPerRequest ?? ''),
      `${t.rows} / ${t.answered}`,
    ]),
  ];
  const m = (name: string, x: MicroResult) =>
    `  in-process, ${name}: request path ${x.requestPathUs} µs, build + append ${x.buildUs} µs (after the response), batched INSERT ${x.writeUs} µs per record (${x.records} records)`;
  return [
    `  load average ${r.loadAverageAtStart.join(' ')} → ${r.loadAverageAtEnd.join(' ')}; ${r.settings.rounds} rounds, ${r.elapsedS} s`,
    m('no content', r.micro.off),
    m('with content', r.micro.content),
    ...columns(rows),
  ];
}

if (isMain(import.meta.url)) runAlone('request-log', runRequestLogBench, requestLogTable);
