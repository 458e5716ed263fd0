/**
 * `quorum spend`, run in-process against a temporary SQLite database with known ledger rows (and the
 * same rows in a Postgres schema of its own when QUORUM_TEST_POSTGRES_URL is set).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spendCommand } from '../../../src/cli/spend.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { postgresSchema } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'quorum-spend-cli-'));
const DB = `sqlite:${join(dir, 'q.db')}`;
let store: Store;

const spend = (...argv: string[]) => spendRaw(...argv, '--database', DB);

/** The command as typed, without a --database of its own. */
async function spendRaw(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await spendCommand(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const at = (iso: string) => Date.parse(iso);
const row = (
  request_id: string,
  team: string,
  key: string | null,
  model: string,
  when: string,
  usd: number,
) => ({
  request_id,
  team_id: team,
  key_id: key,
  model,
  provider: 'demo',
  input_tokens: 1000,
  output_tokens: 200,
  cost_nanos: Math.round(usd * 1e9),
  latency_ms: 5,
  status: 200,
  created_at: at(when),
});

const ROWS = [
  {
    ...row('r1', 'research', 'key_a', 'demo-fast', '2026-11-20T09:00:00Z', 0.1),
    key_name: 'ci',
    end_user: 'alice',
    surface: 'chat.completions',
    tags: { a: 'yes', b: 'yes' },
  },
  // One consensus request fanned out to two models.
  {
    ...row('r2', 'research', 'key_a', 'demo-fast', '2026-11-21T09:00:00Z', 0.2),
    key_name: 'ci',
    surface: 'consensus',
    tags: { a: 'yes' },
  },
  {
    ...row('r2', 'research', 'key_a', 'demo-smart', '2026-11-21T09:00:01Z', 0.3),
    key_name: 'ci',
    surface: 'consensus',
    tags: { a: 'yes' },
  },
  {
    ...row('r3', 'ops', null, 'demo-smart', '2026-11-21T10:00:00Z', 0.4),
    surface: 'workflow',
    workflow_run: 'run_1',
    workflow_step: 'draft',
  },
];

beforeAll(async () => {
  store = await openStore(DB);
  for (const r of ROWS) store.ledger.append(r);
  await store.ledger.flush();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(/\s{2,}/));

describe('quorum spend', () => {
  it('prints spend per day with a total row', async () => {
    const r = await spend();
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      ['day', 'requests', 'calls', 'input tokens', 'output tokens', 'cost USD'],
      ['2026-11-20', '1', '1', '1,000', '200', '0.100000'],
      ['2026-11-21', '2', '3', '3,000', '600', '0.900000'],
      ['total', '3', '4', '4,000', '800', '1.000000'],
    ]);
  });

  it('groups by model without counting a fan-out request twice in the total', async () => {
    const r = await spend('--group-by', 'model', '--team', 'research');
    expect(lines(r.stdout)).toEqual([
      ['model', 'requests', 'calls', 'input tokens', 'output tokens', 'cost USD'],
      ['demo-fast', '2', '2', '2,000', '400', '0.300000'],
      ['demo-smart', '1', '1', '1,000', '200', '0.300000'],
      ['total', '2', '3', '3,000', '600', '0.600000'],
    ]);
  });

  it('groups by key, with its name, showing calls made without a store key', async () => {
    const r = await spend('--group-by', 'key');
    expect(lines(r.stdout).map((l) => [l[0], l.at(-1)])).toEqual([
      ['key', 'cost USD'],
      ['key_a', '0.600000'],
      ['(no key)', '0.400000'],
      ['total', '1.000000'],
    ]);
    expect(r.stdout.split('\n')[0]).toMatch(/^key\s+name\s+requests/);
    expect(r.stdout.split('\n')[1]).toMatch(/^key_a\s+ci\s+2\s/);
  });

  it('groups by several dimensions at once, one column each, and keeps one total', async () => {
    const r = await spend('--group-by', 'team,model,day');
    expect(lines(r.stdout)).toEqual([
      ['team', 'model', 'day', 'requests', 'calls', 'input tokens', 'output tokens', 'cost USD'],
      ['ops', 'demo-smart', '2026-11-21', '1', '1', '1,000', '200', '0.400000'],
      ['research', 'demo-fast', '2026-11-20', '1', '1', '1,000', '200', '0.100000'],
      ['research', 'demo-fast', '2026-11-21', '1', '1', '1,000', '200', '0.200000'],
      ['research', 'demo-smart', '2026-11-21', '1', '1', '1,000', '200', '0.300000'],
      ['total', '3', '4', '4,000', '800', '1.000000'],
    ]);
  });

  it('splits a request tagged a and b between its tags, counting it once in the total', async () => {
    const r = await spend('--group-by', 'tag', '--format', 'json');
    const out = JSON.parse(r.stdout);
    expect(out.data.map((d: any) => [d.tag, d.requests, d.cost_usd])).toEqual([
      ['a:yes', 2, 0.05 + 0.5],
      ['b:yes', 1, 0.05],
      [null, 1, 0.4],
    ]);
    expect(out.total).toMatchObject({ requests: 3, cost_usd: 1 });
  });

  it('filters by end user, tag, surface, run and step', async () => {
    const cost = async (...argv: string[]) =>
      JSON.parse((await spend(...argv, '--group-by', 'team', '--json')).stdout).total.cost_usd;
    expect(await cost('--user', 'alice')).toBe(0.1);
    expect(await cost('--tag', 'a')).toBe(0.6);
    expect(await cost('--tag', 'b:yes')).toBe(0.1);
    expect(await cost('--tag', 'b:no')).toBe(0);
    expect(await cost('--surface', 'consensus')).toBe(0.5);
    expect(await cost('--run', 'run_1', '--step', 'draft')).toBe(0.4);
  });

  it('--format csv writes every row with a header, parsing to what --format json says', async () => {
    const csv = await spend('--group-by', 'team,key,surface', '--format', 'csv');
    expect(csv.code).toBe(0);
    const json = JSON.parse((await spend('--group-by', 'team,key,surface', '--format', 'json')).stdout);
    const records = parseCsv(csv.stdout, { columns: true }) as Record<string, string>[];
    expect(records).toEqual(
      json.data.map((d: any) => ({
        team: d.team,
        key: d.key ?? '',
        key_name: d.key_name ?? '',
        surface: d.surface,
        requests: String(d.requests),
        calls: String(d.calls),
        input_tokens: String(d.input_tokens),
        output_tokens: String(d.output_tokens),
        cached_tokens: String(d.cached_tokens),
        cost_nanos: String(d.cost_nanos),
        cost_usd: String(d.cost_usd),
      })),
    );
  });

  it('filters by key, model and dates (--to includes that whole day)', async () => {
    const r = await spend(
      '--group-by',
      'team',
      '--model',
      'demo-smart',
      '--from',
      '2026-11-21',
      '--to',
      '2026-11-21',
    );
    expect(lines(r.stdout).slice(1)).toEqual([
      ['ops', '1', '1', '1,000', '200', '0.400000'],
      ['research', '1', '1', '1,000', '200', '0.300000'],
      ['total', '2', '2', '2,000', '400', '0.700000'],
    ]);
    const byKey = await spend('--key', 'key_a', '--to', '2026-11-20', '--json');
    expect(JSON.parse(byKey.stdout).data.map((d: any) => d.group)).toEqual(['2026-11-20']);
  });

  it('prints the rows and the exact total as JSON with --json', async () => {
    const r = await spend('--group-by', 'team', '--json');
    expect(JSON.parse(r.stdout)).toEqual({
      object: 'list',
      group_by: 'team',
      data: [
        {
          group: 'ops',
          team: 'ops',
          requests: 1,
          calls: 1,
          input_tokens: 1000,
          output_tokens: 200,
          cached_tokens: 0,
          cost_nanos: 400_000_000,
          cost_usd: 0.4,
        },
        {
          group: 'research',
          team: 'research',
          requests: 2,
          calls: 3,
          input_tokens: 3000,
          output_tokens: 600,
          cached_tokens: 0,
          cost_nanos: 600_000_000,
          cost_usd: 0.6,
        },
      ],
      total: {
        requests: 3,
        calls: 4,
        input_tokens: 4000,
        output_tokens: 800,
        cached_tokens: 0,
        cost_nanos: 1_000_000_000,
        cost_usd: 1,
      },
    });
  });

  it('names the store it read on stderr, leaving --json on stdout clean', async () => {
    const r = await spend('--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`store: ${DB}\n`);
    expect(JSON.parse(r.stdout).total.cost_usd).toBe(1);
  });

  it('reads QUORUM_DATABASE_URL (in the sqlite:///abs/path form too) when there is no --database', async () => {
    vi.stubEnv('QUORUM_DATABASE_URL', `sqlite://${join(dir, 'q.db')}`);
    try {
      const r = await spendRaw('--group-by', 'team', '--json');
      expect(r.stderr).toBe(`store: ${DB}\n`);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).total.requests).toBe(3);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('names the file it looked for when there is none, and creates nothing', async () => {
    const missing = join(dir, 'elsewhere', 'quorum.db');
    vi.stubEnv('QUORUM_DATABASE_URL', `sqlite:${missing}`);
    try {
      const r = await spendRaw();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`no database at ${missing} (from QUORUM_DATABASE_URL=sqlite:${missing})`);
      expect(r.stderr).toMatch(/nothing was created\. QUORUM_DATABASE_URL or --database choose/);
      expect(r.stderr).not.toMatch(/start the gateway once/i);
      expect(r.stdout).toBe('');
      expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('says so when nothing matches', async () => {
    const r = await spend('--team', 'nobody');
    expect(r).toMatchObject({ code: 0, stdout: 'No spend recorded for these filters.\n' });
  });

  it.each([
    [
      ['--group-by', 'week'],
      /--group-by: unknown dimension "week"; expected one or more of team, key, model, day/,
    ],
    [['--group-by', 'team,team'], /--group-by: "team" is named twice/],
    [['--tag', 'a"b'], /--tag: a tag name with " or \\ cannot be queried/],
    [['--format', 'xml'], /--format: expected one of table, csv, json, got "xml"/],
    [['--from', 'last tuesday'], /--from: expected an ISO 8601 date-time/],
    [['--teams', 'x'], /--teams/],
    [['research'], /unexpected argument "research"/],
  ])('exits 2 for %j, pointing at --help', async (argv, message) => {
    const r = await spend(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('quorum spend --help');
  });

  it('--help explains the filters and grouping with examples', async () => {
    const r = await spend('--help');
    expect(r.code).toBe(0);
    for (const text of [
      '--team',
      '--key',
      '--model',
      '--user',
      '--tag',
      '--surface',
      '--run',
      '--step',
      '--from',
      '--to',
      '--group-by',
      'team, key, model, day, hour',
      '--format',
      '--json',
      'Examples:',
      'quorum spend --group-by team,model,day',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });
});

describe.runIf(process.env.QUORUM_TEST_POSTGRES_URL)('quorum spend on Postgres (QUORUM_DATABASE_URL)', () => {
  let url: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ url, drop } = await postgresSchema('quorum_cli_spend'));
    const pgStore = await openStore(url);
    for (const r of ROWS.slice(0, 2)) pgStore.ledger.append(r);
    await pgStore.close();
  });
  afterAll(() => drop());

  it("reads the gateway's Postgres ledger and names the store", async () => {
    vi.stubEnv('QUORUM_DATABASE_URL', url);
    try {
      const r = await spendRaw('--json');
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`store: ${url}\n`);
      expect(JSON.parse(r.stdout).total).toMatchObject({ requests: 2, cost_usd: 0.3 });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
