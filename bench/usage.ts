/**
 * The dashboard's usage queries on a ledger of 1,000,000 rows: each `GET /v1/usage` shape the Overview
 * and Spend pages ask for, and the `GET /admin/spend` attribution reports (several dimensions, tags
 * split, end users, workflow runs), timed end to end against a gateway child.
 *
 *   node bench/usage.ts             # alone (~1.5 min): prints the table
 *   node bench/usage.ts --quick     # fewer rounds (~40 s)
 *   node bench/usage.ts --json      # also print the result object as JSON
 *   BENCH_USAGE_N=20 node bench/usage.ts                      # timed rounds per shape (default 10; 3 quick)
 *   BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test node bench/usage.ts   # Postgres too
 *
 * `npm run bench` runs it last (`--quick` rounds unless BENCH_USAGE_N says otherwise) and puts the
 * result in bench/results/latest.json under `usage`.
 *
 * 1. Seed: 1,000,000 ledger rows over the last 90 days up to now (test/integration/helpers/ledger-seed.ts:
 *    20 teams, team-00 with 40 % of the traffic, 60 keys, 12 models, a quarter of the calls in 3-call
 *    fan-outs, tags), written by the database itself in one INSERT … SELECT into a fresh SQLite file (and,
 *    with BENCH_POSTGRES_URL, a fresh Postgres database made for the run and dropped after it).
 * 2. A gateway child (`node src/cli/main.ts serve`, the demo config plus a key of team-05) on that
 *    database, with a master key. Each shape: one untimed request, then N rounds in which every shape
 *    is asked once in turn (one request at a time), timed from send to the end of the JSON body.
 * 3. Responsiveness: while the widest report runs, a loop asks GET /healthz back to back; its latency
 *    shows whether the report holds up the gateway's event loop (SQLite reads run in a reader thread).
 *
 * Verdict: on SQLite (the default store), every shape's p99 against its bound (BOUNDS below;
 * docs/benchmarks.md says why those). Postgres figures are shown beside them, without a verdict.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openStore } from '../src/store/index.ts';
import { seedLedger } from '../test/integration/helpers/ledger-seed.ts';
import { ChildGroup, isMain, runAlone, stopChild } from './children.ts';
import { columns, loadAverage, round, type Summary, summarise } from './stats.ts';

const ROWS = 1_000_000;
const DAY = 86_400_000;
const SPAN_DAYS = 90;
const MASTER = 'bench-usage-master-key';
const TEAM_KEY = 'bench-usage-team05-key';

/**
 * A report query: who asks (the master key, or team-05's key), where (`GET /v1/usage` unless said
 * otherwise), what, and the p99 bound it must meet.
 */
interface Shape {
  name: string;
  key: 'master' | 'team';
  path?: '/v1/usage' | '/admin/spend';
  query: Record<string, string>;
  boundMs: number;
}

/** Bounds on p99 (ms): a team's own pages, and the operator's views across every team. */
export const BOUNDS = { team: 300, master30: 1000, master92: 3000 } as const;

function shapes(now: number): Shape[] {
  const days = (n: number) => new Date(now - n * DAY).toISOString();
  const d30 = { from: days(30) };
  return [
    { name: 'team: overview, 30 days by day', key: 'team', query: {}, boundMs: BOUNDS.team },
    { name: 'team: by model', key: 'team', query: { group_by: 'model' }, boundMs: BOUNDS.team },
    { name: 'team: by key', key: 'team', query: { group_by: 'key' }, boundMs: BOUNDS.team },
    { name: 'team: by tag:project', key: 'team', query: { group_by: 'tag:project' }, boundMs: BOUNDS.team },
    {
      name: 'team: 24 hours by hour and model',
      key: 'team',
      query: { bucket: 'hour', group_by: 'model' },
      boundMs: BOUNDS.team,
    },
    {
      name: 'team: 13 days by hour',
      key: 'team',
      query: { bucket: 'hour', from: days(13) },
      boundMs: BOUNDS.team,
    },
    {
      name: 'master: the largest team (40 %), by key',
      key: 'master',
      query: { team: 'team-00', group_by: 'key' },
      boundMs: BOUNDS.master30,
    },
    {
      name: 'master: one key, by model',
      key: 'master',
      query: { key: 'key_03_k1', group_by: 'model' },
      boundMs: BOUNDS.team,
    },
    { name: 'master: overview, 30 days by day', key: 'master', query: d30, boundMs: BOUNDS.master30 },
    { name: 'master: by team', key: 'master', query: { ...d30, group_by: 'team' }, boundMs: BOUNDS.master30 },
    {
      name: 'master: by model',
      key: 'master',
      query: { ...d30, group_by: 'model' },
      boundMs: BOUNDS.master30,
    },
    {
      name: 'master: by key (top 50)',
      key: 'master',
      query: { ...d30, group_by: 'key', limit: '50' },
      boundMs: BOUNDS.master30,
    },
    {
      name: 'master: by tag:project',
      key: 'master',
      query: { ...d30, group_by: 'tag:project' },
      boundMs: BOUNDS.master30,
    },
    {
      name: 'master: the whole ledger, 91 days by team',
      key: 'master',
      query: { from: days(91), group_by: 'team' },
      boundMs: BOUNDS.master92,
    },
    // GET /admin/spend: first pages (with their totals) of the attribution reports.
    ...(
      [
        ['spend: team × model × day, 30 days', { ...d30, group_by: 'team,model,day' }, BOUNDS.master30],
        ['spend: by tag (split), 30 days', { ...d30, group_by: 'tag' }, BOUNDS.master30],
        ['spend: by end user, 30 days', { ...d30, group_by: 'user' }, BOUNDS.master30],
        [
          'spend: one team by user and model, 30 days',
          { ...d30, team: 'team-05', group_by: 'user,model' },
          BOUNDS.team,
        ],
        ['spend: one end user, by model, all time', { user: 'user-17', group_by: 'model' }, BOUNDS.team],
        ['spend: one workflow run, by step', { run: 'run_7', group_by: 'step' }, BOUNDS.team],
        ['spend: the whole ledger, team × model × day', { group_by: 'team,model,day' }, BOUNDS.master92],
      ] as const
    ).map(([name, query, boundMs]): Shape => ({ name, key: 'master', path: '/admin/spend', query, boundMs })),
  ];
}

export interface UsageShapeResult {
  name: string;
  query: string;
  /** Ledger rows in the report's range (after team/key filters). */
  rows: number;
  latencyMs: Summary;
  /** The p99 bound; null on Postgres, whose figures are for comparison (the bounds are SQLite's). */
  boundMs: number | null;
  met: boolean | null;
}

export interface UsageEngineResult {
  engine: 'sqlite' | 'postgres';
  seedMs: number;
  shapes: UsageShapeResult[];
  /** GET /healthz latency while the widest report ran. */
  healthzDuringReportMs: Summary;
}

export interface UsageBenchResult {
  rows: number;
  rounds: number;
  loadAverage: { start: number[]; end: number[] };
  engines: UsageEngineResult[];
  notes: string[];
  elapsedS: number;
}

type Log = (m: string) => void;

async function timeOne(
  url: string,
  key: string,
  query: Record<string, string>,
  path = '/v1/usage',
): Promise<{ ms: number; calls: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}${path}?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const body = (await res.json()) as { totals?: { calls: number } };
  const ms = performance.now() - t0;
  if (!res.ok)
    throw new Error(`GET ${path}?${new URLSearchParams(query)}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return { ms, calls: body.totals?.calls ?? 0 };
}

async function runEngine(
  engine: 'sqlite' | 'postgres',
  databaseUrl: string,
  group: ChildGroup,
  rounds: number,
  nodeFlags: string[],
  log: Log,
): Promise<UsageEngineResult> {
  const now = Date.now();
  const startMs = now - SPAN_DAYS * DAY;
  const store = await openStore(databaseUrl);
  const t0 = performance.now();
  try {
    await seedLedger(store, { rows: ROWS, startMs, stepMs: Math.floor((SPAN_DAYS * DAY) / ROWS) });
  } finally {
    await store.close();
  }
  const seedMs = round(performance.now() - t0, 0);
  log(`${engine}: seeded ${ROWS.toLocaleString('en-US')} rows in ${seedMs} ms`);

  const configPath = join(group.dir, `usage-${engine}.yaml`);
  writeFileSync(
    configPath,
    `teams: [{ id: team-05 }]\nkeys: [{ key: ${TEAM_KEY}, team: team-05, name: bench }]\n`,
  );
  const gw = await group.gateway({
    name: `gateway-usage-${engine}`,
    configPath,
    nodeFlags,
    env: { QUORUM_DATABASE_URL: databaseUrl, QUORUM_MASTER_KEY: MASTER },
  });
  await gw.ready(60_000);

  const list = shapes(now);
  const keyOf = (s: Shape) => (s.key === 'master' ? MASTER : TEAM_KEY);
  const rows = new Map<Shape, number>();
  for (const s of list) rows.set(s, (await timeOne(gw.url, keyOf(s), s.query, s.path)).calls); // warm-up
  const samples = new Map<Shape, number[]>(list.map((s) => [s, []]));
  for (let r = 0; r < rounds; r++) {
    // Each round starts one shape later, so no shape always follows the widest one.
    for (let i = 0; i < list.length; i++) {
      const s = list[(i + r) % list.length]!;
      samples.get(s)!.push((await timeOne(gw.url, keyOf(s), s.query, s.path)).ms);
    }
    log(`${engine}: round ${r + 1}/${rounds}`);
  }

  const widest = list.find((s) => s.name === 'master: the whole ledger, 91 days by team')!;
  let done = false;
  const health: number[] = [];
  const report = timeOne(gw.url, MASTER, widest.query).finally(() => {
    done = true;
  });
  while (!done) {
    const t = performance.now();
    const res = await fetch(`${gw.url}/healthz`);
    await res.arrayBuffer();
    health.push(performance.now() - t);
  }
  await report;
  await stopChild(gw.child);

  return {
    engine,
    seedMs,
    shapes: list.map((s) => {
      const latencyMs = summarise(samples.get(s)!);
      return {
        name: s.name,
        query: `${s.path ?? '/v1/usage'}?${new URLSearchParams(s.query)}`,
        rows: rows.get(s)!,
        latencyMs,
        boundMs: engine === 'sqlite' ? s.boundMs : null,
        met: engine === 'sqlite' ? latencyMs.p99 < s.boundMs : null,
      };
    }),
    healthzDuringReportMs: summarise(health),
  };
}

/** A database of its own on the Postgres server, for the run; dropped by the returned function. */
async function postgresDatabase(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `quorum_bench_usage_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export async function runUsageBench(
  options: { quick?: boolean; log?: Log; nodeFlags?: string[]; postgresUrl?: string; rounds?: number } = {},
): Promise<UsageBenchResult> {
  const started = Date.now();
  const log = options.log ?? ((m: string) => process.stderr.write(`[usage] ${m}\n`));
  const envRounds = Number(process.env.BENCH_USAGE_N);
  const rounds = options.rounds ?? (envRounds > 0 ? Math.round(envRounds) : options.quick ? 3 : 10);
  const postgresUrl = options.postgresUrl ?? process.env.BENCH_POSTGRES_URL;
  const loadStart = loadAverage();
  const notes: string[] = [];
  const engines: UsageEngineResult[] = [];
  const group = new ChildGroup('quorum-bench-usage-', log);
  try {
    engines.push(
      await runEngine(
        'sqlite',
        `sqlite:${join(group.dir, 'usage.db')}`,
        group,
        rounds,
        options.nodeFlags ?? [],
        log,
      ),
    );
    if (postgresUrl) {
      let db: Awaited<ReturnType<typeof postgresDatabase>> | null = null;
      try {
        db = await postgresDatabase(postgresUrl);
        engines.push(await runEngine('postgres', db.url, group, rounds, options.nodeFlags ?? [], log));
      } catch (err) {
        notes.push(`postgres skipped: ${(err as Error).message}`);
      } finally {
        await db?.drop().catch(() => {});
      }
    } else notes.push('postgres not run (set BENCH_POSTGRES_URL)');
  } finally {
    await group.close();
  }
  return {
    rows: ROWS,
    rounds,
    loadAverage: { start: loadStart, end: loadAverage() },
    engines,
    notes,
    elapsedS: round((Date.now() - started) / 1000, 1),
  };
}

export function usageTable(r: UsageBenchResult): string[] {
  const out: string[] = [];
  for (const e of r.engines) {
    out.push(
      `usage queries on ${e.engine}, ${r.rows.toLocaleString('en-US')} ledger rows (seeded in ${e.seedMs} ms), ${r.rounds} rounds:`,
      ...columns([
        ['GET /v1/usage, /admin/spend', 'rows in range', 'p50 ms', 'p99 ms', 'bound', ''],
        ...e.shapes.map((s) => [
          s.name,
          s.rows.toLocaleString('en-US'),
          s.latencyMs.p50.toFixed(0),
          s.latencyMs.p99.toFixed(0),
          s.boundMs === null ? '' : `< ${s.boundMs}`,
          s.met === null ? '' : s.met ? 'MET' : 'MISSED',
        ]),
      ]),
      `  GET /healthz during the widest report: p50 ${e.healthzDuringReportMs.p50.toFixed(1)} ms, p99 ${e.healthzDuringReportMs.p99.toFixed(1)} ms (${e.healthzDuringReportMs.n} answered)`,
      '',
    );
  }
  out.push(`load average ${r.loadAverage.start.join(' ')} → ${r.loadAverage.end.join(' ')}; ${r.elapsedS} s`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out;
}

if (isMain(import.meta.url)) {
  // The commit measured, for the record.
  try {
    process.stderr.write(
      `[usage] at ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}\n`,
    );
  } catch {
    // not a git checkout
  }
  runAlone('usage', runUsageBench, usageTable);
}
